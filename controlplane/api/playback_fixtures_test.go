package api_test

import (
	"testing"

	"github.com/marquee-video/marquee/controlplane/cptest"
)

// playbackFixtures gives every tenant of the isolation tree its playback objects
// (tr.put(kind, tenant, id)); none until the capability lands.
func playbackFixtures(t *testing.T, s *cptest.Server, tr *tree) {}

// playbackSamples are valid request bodies for the playback schemas.
func playbackSamples() map[string]any { return map[string]any{} }
