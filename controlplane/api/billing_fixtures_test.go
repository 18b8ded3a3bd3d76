package api_test

import (
	"testing"

	"github.com/marquee-video/marquee/controlplane/cptest"
)

// billingFixtures gives every tenant of the isolation tree its billing objects
// (tr.put(kind, tenant, id)); none until the capability lands.
func billingFixtures(t *testing.T, s *cptest.Server, tr *tree) {}

// billingSamples are valid request bodies for the billing schemas.
func billingSamples() map[string]any { return map[string]any{} }
