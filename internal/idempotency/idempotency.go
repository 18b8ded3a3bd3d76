// Package idempotency remembers the responses to POSTs sent with an
// Idempotency-Key, per tenant, so a client that retries after a timeout gets
// the first response instead of a second charge or a duplicate object.
//
// A key is claimed before the request runs (a row with status 0), so two
// concurrent requests with one key cannot both run: the second is told the
// key is in use. Failed requests release their claim, so they can be retried.
// Keys are forgotten after a day, as Stripe does.
package idempotency

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/errs"
)

// TTL is how long a key is remembered.
const TTL = 24 * time.Hour

// Store keeps claims and responses in the idempotency_keys table.
type Store struct {
	db *db.DB
}

// New returns a Store on d.
func New(d *db.DB) *Store { return &Store{db: d} }

type row struct {
	TenantID     string `gorm:"primaryKey"`
	Key          string `gorm:"primaryKey"`
	Fingerprint  string
	Status       int
	ResponseBody []byte
	CreatedAt    time.Time
}

func (row) TableName() string { return "idempotency_keys" }

// Begin claims key for tenant. When the key already holds a completed
// response for the same request fingerprint, it returns that response with
// replay true. The same key with another request is Invalid; a key whose
// first request is still running is a Conflict.
func (s *Store) Begin(ctx context.Context, tenant, key, fingerprint string) (status int, body []byte, replay bool, err error) {
	err = s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		var r row
		err := tx.Where("tenant_id = ? AND key = ?", tenant, key).Take(&r).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
		case err != nil:
			return err
		case time.Since(r.CreatedAt) > TTL:
			if err := tx.Where("tenant_id = ? AND key = ?", tenant, key).Delete(&row{}).Error; err != nil {
				return err
			}
		case r.Fingerprint != fingerprint:
			return errs.E(errs.Invalid, "idempotency_key_reused", "this Idempotency-Key was used with a different request")
		case r.Status == 0:
			return errs.E(errs.Conflict, "idempotency_key_in_use", "a request with this Idempotency-Key is still being processed")
		default:
			status, body, replay = r.Status, r.ResponseBody, true
			return nil
		}
		err = tx.Create(&row{TenantID: tenant, Key: key, Fingerprint: fingerprint, ResponseBody: []byte{}, CreatedAt: time.Now().UTC()}).Error
		if db.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "idempotency_key_in_use", "a request with this Idempotency-Key is still being processed")
		}
		return err
	})
	return status, body, replay, db.Translate(err)
}

// Complete stores the response for a claimed key.
func (s *Store) Complete(ctx context.Context, tenant, key string, status int, body []byte) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Model(&row{}).Where("tenant_id = ? AND key = ?", tenant, key).
			Updates(map[string]any{"status": status, "response_body": body}).Error
	}))
}

// Abort releases a claim whose request failed.
func (s *Store) Abort(ctx context.Context, tenant, key string) error {
	return db.Translate(s.db.Tx(ctx, tenant, func(tx *db.Tx) error {
		return tx.Where("tenant_id = ? AND key = ? AND status = 0", tenant, key).Delete(&row{}).Error
	}))
}
