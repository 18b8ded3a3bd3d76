// Package objectstest starts real object storage for tests in any package: an
// S3-compatible server (gofakes3, in memory) on a random loopback port.
package objectstest

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/marquee-video/marquee/internal/objects"
)

// Bucket is the bucket StartS3 creates.
const Bucket = "marquee-test"

// StartS3 starts an S3-compatible server with an empty bucket, stops it when
// the test ends, and returns the configuration that reaches it.
func StartS3(t testing.TB) objects.S3Config {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(Bucket); err != nil {
		t.Fatalf("objectstest: create bucket: %v", err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return objects.S3Config{
		Endpoint:  srv.URL,
		Region:    "us-east-1",
		Bucket:    Bucket,
		AccessKey: "marquee",
		SecretKey: "marquee-secret",
		PathStyle: true,
	}
}

// NewS3 returns a store on cfg, failing the test if it cannot be built.
func NewS3(t testing.TB, cfg objects.S3Config) *objects.S3 {
	t.Helper()
	s, err := objects.NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatalf("objectstest: %v", err)
	}
	return s
}
