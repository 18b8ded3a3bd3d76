package api

// playbackRoutes registers the playback routes; none until the capability lands.
func (s *Server) playbackRoutes() []Route { return nil }

// playbackSchemas are the OpenAPI schemas the playback routes name.
func playbackSchemas() map[string]any { return map[string]any{} }
