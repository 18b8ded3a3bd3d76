package api

// billingRoutes registers the billing routes; none until the capability lands.
func (s *Server) billingRoutes() []Route { return nil }

// billingSchemas are the OpenAPI schemas the billing routes name.
func billingSchemas() map[string]any { return map[string]any{} }
