package api_test

import (
	"testing"

	"github.com/marquee-video/marquee/controlplane/cptest"
)

// catalogFixtures gives every tenant of the isolation tree its catalog objects
// (tr.put(kind, tenant, id)); none until the capability lands.
func catalogFixtures(t *testing.T, s *cptest.Server, tr *tree) {}

// catalogSamples are valid request bodies for the catalog schemas.
func catalogSamples() map[string]any { return map[string]any{} }
