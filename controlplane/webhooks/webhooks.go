// Package webhooks sends a tenant's events (an asset created, ready or
// errored) to the HTTPS endpoints the tenant registers, in the style of
// Stripe: each request is signed with the endpoint's secret, failures are
// retried with exponential backoff, and every attempt is kept for the tenant
// to see.
//
// Events are written by the transaction that causes them (EmitTx): one
// pending delivery per subscribed endpoint, committed or rolled back with the
// change itself, so an event is never lost nor announced for a change that
// did not happen. The Dispatcher then claims due deliveries, posts them and
// records the outcome. Delivery is at least once; receivers deduplicate on
// the Marquee-Delivery header or the event id.
//
// This file is the contract: the types, the Store the domain needs, and the
// validation of inputs. Service (service.go) holds the rules, Dispatcher
// (dispatcher.go) the sending, signature.go the signing scheme; the sqlstore
// sub-package implements Store on PostgreSQL and SQLite.
package webhooks

import (
	"context"
	"encoding/json"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/netguard"
)

// The events a tenant can subscribe to.
const (
	EventAssetCreated = "asset.created"
	EventAssetReady   = "asset.ready"
	EventAssetErrored = "asset.errored"
)

// KnownEvents lists the event types, in the order the API documents them.
func KnownEvents() []string {
	return []string{EventAssetCreated, EventAssetReady, EventAssetErrored}
}

// Identifier prefixes: whe_ endpoints, whd_ deliveries, evt_ events.
const (
	PrefixEndpoint = "whe"
	PrefixDelivery = "whd"
	PrefixEvent    = "evt"
	// SecretPrefix starts every signing secret.
	SecretPrefix = "whsec_"
)

// MaxEndpoints is how many endpoints one tenant may register.
const MaxEndpoints = 10

// MaxURLLength bounds an endpoint URL.
const MaxURLLength = 2048

// Endpoint is a URL a tenant receives events at. Its signing secret is shown
// once, when the endpoint is created, and never listed.
type Endpoint struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	CreatedAt time.Time `json:"created_at"`
}

// Status is where a delivery is.
type Status string

// The statuses of a delivery: pending until an attempt succeeds (delivered)
// or the attempts run out (failed).
const (
	StatusPending   Status = "pending"
	StatusDelivered Status = "delivered"
	StatusFailed    Status = "failed"
)

// Delivery is one event on its way to one endpoint.
type Delivery struct {
	ID         string          `json:"id"`
	EndpointID string          `json:"endpoint_id"`
	EventType  string          `json:"event_type"`
	Payload    json.RawMessage `json:"payload"`
	Status     Status          `json:"status"`
	Attempts   int             `json:"attempts"`
	// NextAttemptAt is set while the delivery is pending.
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	CreatedAt     time.Time  `json:"created_at"`
	DeliveredAt   *time.Time `json:"delivered_at"`
	// AttemptLog is every attempt made, first first.
	AttemptLog []Attempt `json:"attempt_log"`
}

// Attempt is one POST of a delivery: the receiver's status code, or why no
// status came back. Error never names a resolved address, so webhooks cannot
// be used to map the platform's network.
type Attempt struct {
	N          int       `json:"n"`
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	DurationMS int       `json:"duration_ms"`
}

// Event is the body of every webhook request (and a delivery's Payload).
// One event sent to several endpoints keeps its id.
type Event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	TenantID  string          `json:"tenant_id"`
	Data      json.RawMessage `json:"data"`
}

// CreateEndpointInput registers an endpoint.
type CreateEndpointInput struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

// Validate checks in against p, the policy the dispatcher will dial with.
// The URL must be absolute https without credentials. Plain http is accepted
// only for an address literal in p's allow list (a receiver on loopback in
// development and tests): anywhere else it would send the payload and its
// signature in clear. An address literal p forbids is refused now rather
// than failing every attempt; a host name is judged when it is dialled.
func (in CreateEndpointInput) Validate(p netguard.Policy) error {
	raw := strings.TrimSpace(in.URL)
	if raw == "" {
		return errs.Field("url", "url is required")
	}
	if len(raw) > MaxURLLength {
		return errs.Field("url", "url is longer than %d characters", MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return errs.Field("url", "url must be an absolute https URL")
	}
	if u.User != nil {
		return errs.Field("url", "url may not carry credentials")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return errs.Field("url", "url has an invalid port")
		}
	}
	addr, literal := netip.ParseAddr(u.Hostname())
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && literal == nil && p.AllowListed(addr):
	default:
		return errs.Field("url", "url must use https")
	}
	if literal == nil && p.Check(addr) != nil {
		return errs.Field("url", "url's host is not on the public internet")
	}
	if len(in.Events) == 0 {
		return errs.Field("events", "subscribe to at least one event: %s", strings.Join(KnownEvents(), ", "))
	}
	for _, e := range in.Events {
		if !slices.Contains(KnownEvents(), e) {
			return errs.Field("events", "unknown event %q; known events: %s", e, strings.Join(KnownEvents(), ", "))
		}
	}
	return nil
}

// normalized is in with the URL trimmed and each event once.
func (in CreateEndpointInput) normalized() CreateEndpointInput {
	out := CreateEndpointInput{URL: strings.TrimSpace(in.URL)}
	for _, e := range in.Events {
		if !slices.Contains(out.Events, e) {
			out.Events = append(out.Events, e)
		}
	}
	return out
}

// Claimed is a delivery leased to one dispatcher for its next attempt, with
// what sending it takes.
type Claimed struct {
	TenantID   string
	DeliveryID string
	EventType  string
	Payload    []byte
	// Attempts is how many attempts were recorded before this one.
	Attempts int
	URL      string
	Secret   string
}

// Store is the persistence the domain needs. Tenant-facing methods take the
// tenant first; Claim and Record work across tenants, since the dispatcher
// is the platform's.
type Store interface {
	// CreateEndpoint stores e with its signing secret, unless the tenant
	// already has max endpoints (Conflict too_many_endpoints).
	CreateEndpoint(ctx context.Context, tenant string, e Endpoint, secret string, max int) error
	Endpoints(ctx context.Context, tenant string) ([]Endpoint, error)
	// DeleteEndpoint removes the endpoint and its deliveries.
	DeleteEndpoint(ctx context.Context, tenant, id string) error
	// Deliveries lists deliveries, with their attempts, by id after after;
	// all of the tenant's when endpointID is empty. An endpoint the tenant
	// does not have is NotFound.
	Deliveries(ctx context.Context, tenant, endpointID string, limit int, after string) ([]Delivery, error)

	// SubscribersTx returns, inside the caller's transaction, the ids of
	// the tenant's endpoints subscribed to eventType.
	SubscribersTx(tx *db.Tx, tenant, eventType string) ([]string, error)
	// AddDeliveriesTx inserts pending deliveries inside the caller's
	// transaction.
	AddDeliveriesTx(tx *db.Tx, tenant string, ds []Delivery) error

	// Claim leases up to max pending deliveries due at now, oldest due
	// first, by moving their next attempt to now+lease, so no other
	// dispatcher claims them meanwhile; a dispatcher that dies mid-attempt
	// leaves them to be claimed again when the lease ends.
	Claim(ctx context.Context, now time.Time, max int, lease time.Duration) ([]Claimed, error)
	// Record stores attempt a of c and the delivery's new status; next is
	// the next attempt's time when status is pending. It refuses (Conflict
	// stale_claim) when another attempt was recorded since c was claimed,
	// and is NotFound when the delivery is gone.
	Record(ctx context.Context, c Claimed, a Attempt, status Status, next time.Time) error
}

func endpointNotFound(id string) error { return errs.NotFoundf("webhook endpoint %q not found", id) }
