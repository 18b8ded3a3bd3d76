package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/ids"
	"github.com/marquee-video/marquee/internal/netguard"
)

// Page sizes of Deliveries.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Service manages a tenant's endpoints and turns events into deliveries. It
// implements assets.Events.
type Service struct {
	store  Store
	policy netguard.Policy
}

// NewService returns a Service on store. policy must be the one the
// Dispatcher dials with, so that an endpoint accepted here can be reached.
func NewService(store Store, policy netguard.Policy) *Service {
	return &Service{store: store, policy: policy}
}

// now is the clock, to the microsecond that both databases keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// CreateEndpoint registers an endpoint and returns it with its signing
// secret, which the tenant sees only this once.
func (s *Service) CreateEndpoint(ctx context.Context, tenant string, in CreateEndpointInput) (Endpoint, string, error) {
	if err := in.Validate(s.policy); err != nil {
		return Endpoint{}, "", err
	}
	in = in.normalized()
	secret, err := newSecret()
	if err != nil {
		return Endpoint{}, "", err
	}
	e := Endpoint{ID: ids.New(PrefixEndpoint), URL: in.URL, Events: in.Events, CreatedAt: now()}
	// The secret is stored as it is, not hashed: the dispatcher needs it to
	// sign every request, so a hash would be useless. It is what a tenant
	// would store on its side too; it never leaves the control plane again.
	if err := s.store.CreateEndpoint(ctx, tenant, e, secret, MaxEndpoints); err != nil {
		return Endpoint{}, "", err
	}
	return e, secret, nil
}

func newSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webhooks: secret: %w", err)
	}
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// Endpoints lists the tenant's endpoints, oldest first.
func (s *Service) Endpoints(ctx context.Context, tenant string) ([]Endpoint, error) {
	return s.store.Endpoints(ctx, tenant)
}

// DeleteEndpoint removes an endpoint; its pending deliveries go with it.
func (s *Service) DeleteEndpoint(ctx context.Context, tenant, id string) error {
	if !ids.Valid(PrefixEndpoint, id) {
		return endpointNotFound(id)
	}
	return s.store.DeleteEndpoint(ctx, tenant, id)
}

// Deliveries lists the tenant's deliveries, each with its attempts, oldest
// first, limit at a time (DefaultPageSize when 0 or less, at most
// MaxPageSize) after the delivery id after; only endpointID's when it is
// not empty.
func (s *Service) Deliveries(ctx context.Context, tenant, endpointID string, limit int, after string) ([]Delivery, error) {
	if endpointID != "" && !ids.Valid(PrefixEndpoint, endpointID) {
		return nil, endpointNotFound(endpointID)
	}
	if after != "" && !ids.Valid(PrefixDelivery, after) {
		return nil, errs.Field("after", "after must be a delivery id")
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	return s.store.Deliveries(ctx, tenant, endpointID, min(limit, MaxPageSize), after)
}

// EmitTx records event eventType with data (marshalled as the payload's
// "data") for every endpoint of tenant subscribed to it, inside tx, the
// transaction that makes the change the event announces: the change and its
// deliveries commit or roll back together. tx may be the tenant's or a
// System transaction.
func (s *Service) EmitTx(tx *db.Tx, tenant, eventType string, data any) error {
	if !slices.Contains(KnownEvents(), eventType) {
		return fmt.Errorf("webhooks: emit of unknown event %q", eventType)
	}
	subscribers, err := s.store.SubscribersTx(tx, tenant, eventType)
	if err != nil || len(subscribers) == 0 {
		return err
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("webhooks: %s data: %w", eventType, err)
	}
	at := now()
	payload, err := json.Marshal(Event{ID: ids.New(PrefixEvent), Type: eventType, CreatedAt: at, TenantID: tenant, Data: raw})
	if err != nil {
		return fmt.Errorf("webhooks: %s payload: %w", eventType, err)
	}
	ds := make([]Delivery, len(subscribers))
	for i, endpoint := range subscribers {
		ds[i] = Delivery{
			ID: ids.New(PrefixDelivery), EndpointID: endpoint, EventType: eventType, Payload: payload,
			Status: StatusPending, NextAttemptAt: &at, CreatedAt: at,
		}
	}
	return s.store.AddDeliveriesTx(tx, tenant, ds)
}
