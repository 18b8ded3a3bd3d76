// Package nodes is the control plane's registry of data-plane worker nodes:
// enrollment with the platform's node key, per-node tokens (shown once,
// stored hashed), heartbeats, and the list platform ops sees.
package nodes

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/ids"
	"github.com/marquee-video/marquee/internal/wire"
)

// Node is a registered worker.
type Node struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Cores        int       `json:"cores"`
	GPU          string    `json:"gpu"`
	Encoders     []string  `json:"encoders"`
	HWAccels     []string  `json:"hwaccels"`
	Queues       []string  `json:"queues"`
	Capacity     int       `json:"capacity"`
	Running      int       `json:"running"`
	Draining     bool      `json:"draining"`
	Healthy      bool      `json:"healthy"`
	RegisteredAt time.Time `json:"registered_at"`
	LastSeenAt   time.Time `json:"last_seen_at"`
}

// HeartbeatTimeout is how long a node may be silent and still count as
// healthy.
const HeartbeatTimeout = 30 * time.Second

// Registry keeps nodes in the nodes table. Nodes are the platform's, not a
// tenant's, so its transactions are System ones.
type Registry struct {
	db  *db.DB
	key []byte
}

// NewRegistry returns a registry that enrolls nodes presenting key.
func NewRegistry(d *db.DB, key []byte) (*Registry, error) {
	if len(key) < 16 {
		return nil, errors.New("nodes: the node enrollment key must be at least 16 bytes")
	}
	return &Registry{db: d, key: key}, nil
}

type nodeRow struct {
	ID           string `gorm:"primaryKey"`
	Name         string
	TokenHash    string
	Cores        int
	GPU          string `gorm:"column:gpu"`
	Encoders     string
	HWAccels     string `gorm:"column:hwaccels"`
	Queues       string
	Capacity     int
	Running      int
	Draining     bool
	RegisteredAt time.Time
	LastSeenAt   time.Time
}

func (nodeRow) TableName() string { return "nodes" }

func (r nodeRow) domain(now time.Time) Node {
	n := Node{ID: r.ID, Name: r.Name, Cores: r.Cores, GPU: r.GPU, Capacity: r.Capacity, Running: r.Running, Draining: r.Draining,
		RegisteredAt: r.RegisteredAt.UTC(), LastSeenAt: r.LastSeenAt.UTC(), Encoders: []string{}, HWAccels: []string{}, Queues: []string{}}
	_ = json.Unmarshal([]byte(r.Encoders), &n.Encoders)
	_ = json.Unmarshal([]byte(r.HWAccels), &n.HWAccels)
	_ = json.Unmarshal([]byte(r.Queues), &n.Queues)
	n.Healthy = now.Sub(n.LastSeenAt) < HeartbeatTimeout && !n.Draining
	return n
}

const tokenScheme = "mqn_"

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// Enroll registers a node that presented the enrollment key and returns its
// token, shown only here.
func (r *Registry) Enroll(ctx context.Context, key string, reg wire.NodeRegistration) (Node, string, error) {
	if subtle.ConstantTimeCompare([]byte(key), r.key) != 1 {
		return Node{}, "", errs.E(errs.Unauthenticated, "invalid_node_key", "the node enrollment key is wrong")
	}
	reg.Name = strings.TrimSpace(reg.Name)
	if reg.Name == "" || len(reg.Name) > 100 || reg.Cores < 1 || reg.Capacity < 1 || len(reg.Queues) == 0 {
		return Node{}, "", errs.E(errs.Invalid, "invalid_request", "a node needs a name, cores, capacity and at least one queue")
	}
	for _, q := range reg.Queues {
		if q != wire.QueueCPU && q != wire.QueueGPU {
			return Node{}, "", errs.Field("queues", "unknown queue %q", q)
		}
		if q == wire.QueueGPU && reg.GPU == "" {
			return Node{}, "", errs.Field("queues", "only a node with a GPU may consume %s", wire.QueueGPU)
		}
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	token := tokenScheme + hex.EncodeToString(b)
	now := time.Now().UTC()
	enc, _ := json.Marshal(reg.Encoders)
	hw, _ := json.Marshal(reg.HWAccels)
	qs, _ := json.Marshal(reg.Queues)
	row := nodeRow{ID: ids.New("nod"), Name: reg.Name, TokenHash: hashToken(token), Cores: reg.Cores, GPU: reg.GPU,
		Encoders: string(enc), HWAccels: string(hw), Queues: string(qs), Capacity: reg.Capacity, RegisteredAt: now, LastSeenAt: now}
	err := r.db.System(ctx, func(tx *db.Tx) error { return tx.Create(&row).Error })
	if err != nil {
		return Node{}, "", db.Translate(err)
	}
	return row.domain(now), token, nil
}

// Authenticate finds the node a token belongs to.
func (r *Registry) Authenticate(ctx context.Context, token string) (Node, error) {
	if !strings.HasPrefix(token, tokenScheme) {
		return Node{}, errs.E(errs.Unauthenticated, "invalid_node_token", "the node token is invalid")
	}
	var row nodeRow
	err := r.db.System(ctx, func(tx *db.Tx) error { return tx.Where("token_hash = ?", hashToken(token)).Take(&row).Error })
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Node{}, errs.E(errs.Unauthenticated, "invalid_node_token", "the node token is invalid")
	}
	return row.domain(time.Now().UTC()), db.Translate(err)
}

// Heartbeat records a node's report.
func (r *Registry) Heartbeat(ctx context.Context, id string, hb wire.NodeHeartbeat) error {
	if hb.Running < 0 {
		return errs.Field("running", "running must not be negative")
	}
	return db.Translate(r.db.System(ctx, func(tx *db.Tx) error {
		return tx.Model(&nodeRow{}).Where("id = ?", id).Updates(map[string]any{"running": hb.Running, "draining": hb.Draining, "last_seen_at": time.Now().UTC()}).Error
	}))
}

// List returns every node, newest first.
func (r *Registry) List(ctx context.Context) ([]Node, error) {
	var rows []nodeRow
	err := r.db.System(ctx, func(tx *db.Tx) error { return tx.Order("registered_at DESC").Find(&rows).Error })
	now := time.Now().UTC()
	out := make([]Node, len(rows))
	for i, row := range rows {
		out[i] = row.domain(now)
	}
	return out, db.Translate(err)
}
