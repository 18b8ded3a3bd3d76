package api

// catalogRoutes registers the catalog routes; none until the capability lands.
func (s *Server) catalogRoutes() []Route { return nil }

// catalogSchemas are the OpenAPI schemas the catalog routes name.
func catalogSchemas() map[string]any { return map[string]any{} }
