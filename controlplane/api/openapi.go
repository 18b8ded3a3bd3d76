package api

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// buildOpenAPI renders the OpenAPI 3.1 document from the route table and the
// schemas below, so a route cannot exist undocumented. A test checks that
// every schema a route names is defined and every registered route appears.
func buildOpenAPI(routes []Route) ([]byte, error) {
	schemas := schemaDefs()
	for _, more := range []map[string]any{playbackSchemas(), catalogSchemas(), billingSchemas()} {
		for name, def := range more {
			if _, dup := schemas[name]; dup {
				return nil, fmt.Errorf("openapi: schema %s defined twice", name)
			}
			schemas[name] = def
		}
	}
	paths := map[string]map[string]any{}
	for _, r := range routes {
		p := openAPIPath(r.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		op := map[string]any{
			"summary":     r.Summary,
			"operationId": operationID(r),
			"responses":   responses(r),
		}
		var params []any
		for _, name := range pathParams(r.Path) {
			kind := r.Params[name]
			if name == "file" {
				kind = r.Params["*"]
			}
			params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"}, "description": "a " + kind})
		}
		for _, q := range r.Query {
			params = append(params, map[string]any{"name": q, "in": "query", "required": q == "host", "schema": queryParamSchema(q)})
		}
		if r.Node || strings.HasPrefix(r.Path, "/internal/") {
			op["security"] = []any{map[string]any{"node": []any{}}}
			op["x-marquee-internal"] = true
		} else if r.Object != "" {
			op["security"] = []any{map[string]any{"bearer": []any{}}}
			params = append(params, map[string]any{"$ref": "#/components/parameters/MarqueeTenant"})
			op["x-marquee-permission"] = r.Object + ":" + r.Action
		} else {
			op["security"] = []any{}
		}
		if r.Idempotent {
			params = append(params, map[string]any{"$ref": "#/components/parameters/IdempotencyKey"})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		switch r.Request {
		case "":
		case "binary":
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"image/png": binary(), "image/jpeg": binary(), "image/webp": binary(), "image/svg+xml": binary(),
			}}
		default:
			if _, ok := schemas[r.Request]; !ok {
				return nil, fmt.Errorf("openapi: route %s %s names unknown schema %q", r.Method, r.Path, r.Request)
			}
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": ref(r.Request)}}}
		}
		if r.Response != "" && r.Response != "binary" && r.Response != "sse" {
			if _, ok := schemas[r.Response]; !ok {
				return nil, fmt.Errorf("openapi: route %s %s names unknown schema %q", r.Method, r.Path, r.Response)
			}
		}
		paths[p][strings.ToLower(r.Method)] = op
		if r.Object == "" && publicMedia(r.Path) {
			pre := map[string]any{
				"summary": "CORS preflight for browser players", "operationId": "preflight" + operationID(r), "security": []any{},
				"responses": map[string]any{"204": map[string]any{"description": "Access-Control-Allow-* headers"}},
			}
			var pathOnly []any
			for _, prm := range params {
				if m, ok := prm.(map[string]any); ok && m["in"] == "path" {
					pathOnly = append(pathOnly, m)
				}
			}
			if len(pathOnly) > 0 {
				pre["parameters"] = pathOnly
			}
			paths[p]["options"] = pre
		}
	}
	paths["/metrics"] = map[string]any{"get": map[string]any{
		"summary": "Prometheus metrics", "operationId": "metrics", "security": []any{},
		"responses": map[string]any{"200": map[string]any{"description": "metrics in the Prometheus text format", "content": map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}}},
	}}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Marquee API",
			"version":     "1.0.0",
			"description": "Multi-tenant white-label video platform. Authenticate with `Authorization: Bearer <session token or API key>`; act on a descendant tenant with `Marquee-Tenant: <tenant id>`. Errors are application/problem+json with a stable `code`.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "a session token from /v1/signup or /v1/login, or an API key (mq_…)"},
				"node":   map[string]any{"type": "http", "scheme": "bearer", "description": "data-plane nodes: the platform node key to enroll, then the node's own token (mqn_…)"},
			},
			"parameters": map[string]any{
				"MarqueeTenant":  map[string]any{"name": "Marquee-Tenant", "in": "header", "required": false, "schema": map[string]any{"type": "string"}, "description": "act on this descendant tenant; any other tenant answers 404"},
				"IdempotencyKey": map[string]any{"name": "Idempotency-Key", "in": "header", "required": false, "schema": map[string]any{"type": "string", "maxLength": 255}, "description": "a retry with the same key and body returns the first response"},
			},
			"responses": map[string]any{
				"Problem": map[string]any{"description": "an error", "content": map[string]any{"application/problem+json": map[string]any{"schema": ref("Problem")}}},
			},
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

var paramRE = regexp.MustCompile(`:([a-z_]+)`)

// openAPIPath writes fiber's ":name" parameters as "{name}" and its "*"
// wildcard as "{file}".
func openAPIPath(p string) string {
	return strings.Replace(paramRE.ReplaceAllString(p, "{$1}"), "*", "{file}", 1)
}

func pathParams(p string) []string {
	var out []string
	for _, m := range paramRE.FindAllStringSubmatch(p, -1) {
		out = append(out, m[1])
	}
	if strings.Contains(p, "*") {
		out = append(out, "file")
	}
	return out
}

func operationID(r Route) string {
	parts := []string{strings.ToLower(r.Method)}
	for _, seg := range strings.Split(strings.Trim(r.Path, "/"), "/") {
		if seg == "v1" || seg == "" {
			continue
		}
		seg = strings.TrimPrefix(seg, ":")
		if seg == "*" {
			seg = "file"
		}
		seg = strings.NewReplacer("-", "_", ".", "_").Replace(seg)
		parts = append(parts, seg)
	}
	return strings.Join(parts, "_")
}

func responses(r Route) map[string]any {
	ok := map[string]any{"description": r.Summary}
	switch r.Response {
	case "":
	case "binary":
		ok["content"] = map[string]any{"image/*": binary()}
	case "sse":
		ok["content"] = map[string]any{"text/event-stream": map[string]any{"schema": map[string]any{"type": "string", "description": "\"asset\" events whose data is an Asset"}}}
	default:
		ok["content"] = map[string]any{"application/json": map[string]any{"schema": ref(r.Response)}}
	}
	out := map[string]any{fmt.Sprint(r.Status): ok, "default": map[string]any{"$ref": "#/components/responses/Problem"}}
	return out
}

func queryParamSchema(name string) map[string]any {
	if name == "limit" {
		return map[string]any{"type": "integer", "minimum": 1, "maximum": 200, "default": 50}
	}
	return map[string]any{"type": "string"}
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func binary() map[string]any {
	return map[string]any{"schema": map[string]any{"type": "string", "contentMediaType": "application/octet-stream"}}
}

func obj(required []string, props map[string]any) map[string]any {
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		slices.Sort(required)
		o["required"] = required
	}
	return o
}

// schemaDefs are the JSON shapes of bodies, named by the route table.
func schemaDefs() map[string]any {
	str := map[string]any{"type": "string"}
	strOrNull := map[string]any{"type": []string{"string", "null"}}
	timeStr := map[string]any{"type": "string", "format": "date-time"}
	timeNull := map[string]any{"type": []string{"string", "null"}, "format": "date-time"}
	color := map[string]any{"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}
	limitVal := map[string]any{"type": []string{"integer", "null"}, "minimum": 0, "description": "null means unlimited"}
	role := map[string]any{"type": "string", "enum": []string{"owner", "admin", "editor", "analyst", "billing", "platform_ops"}}
	integer := map[string]any{"type": "integer"}
	strList := map[string]any{"type": "array", "items": map[string]any{"type": "string"}}

	return map[string]any{
		"Problem": obj([]string{"type", "title", "status", "code"}, map[string]any{
			"type": str, "title": str, "status": map[string]any{"type": "integer"}, "detail": str, "code": str, "field": str, "request_id": str,
		}),
		"Health":  map[string]any{"type": "object", "properties": map[string]any{"status": str, "checks": map[string]any{"type": "object"}}},
		"OpenAPI": map[string]any{"type": "object"},
		"Tenant": obj([]string{"id", "slug", "name", "kind", "status", "plan", "created_at"}, map[string]any{
			"id": str, "parent_id": strOrNull, "slug": str, "name": str,
			"kind":         map[string]any{"type": "string", "enum": []string{"platform", "reseller", "creator"}},
			"status":       map[string]any{"type": "string", "enum": []string{"active", "suspended"}},
			"suspended_by": str, "plan": str, "created_at": timeStr, "updated_at": timeStr,
		}),
		"TenantList": obj([]string{"data", "next_cursor"}, map[string]any{"data": map[string]any{"type": "array", "items": ref("Tenant")}, "next_cursor": strOrNull}),
		"User":       obj([]string{"id", "email"}, map[string]any{"id": str, "email": str, "name": str, "created_at": timeStr}),
		"SignupRequest": obj([]string{"email", "password", "name"}, map[string]any{
			"email": map[string]any{"type": "string", "format": "email"}, "password": map[string]any{"type": "string", "minLength": 10, "maxLength": 256}, "name": map[string]any{"type": "string", "maxLength": 100},
		}),
		"SignupResponse":      obj([]string{"tenant", "user", "token"}, map[string]any{"tenant": ref("Tenant"), "user": ref("User"), "token": str}),
		"LoginRequest":        obj([]string{"email", "password"}, map[string]any{"email": str, "password": str, "tenant_id": str}),
		"TokenResponse":       obj([]string{"token"}, map[string]any{"token": str, "tenant_id": str, "role": str, "expires_in": map[string]any{"type": "integer"}}),
		"CreateAPIKeyRequest": obj([]string{"name", "role"}, map[string]any{"name": str, "role": role}),
		"CreatedAPIKey": obj([]string{"id", "key", "name", "role", "prefix", "created_at"}, map[string]any{
			"id": str, "key": map[string]any{"type": "string", "description": "the secret; shown only here"}, "name": str, "role": role, "prefix": str, "created_at": timeStr,
		}),
		"APIKey": obj([]string{"id", "name", "role", "prefix", "created_at"}, map[string]any{
			"id": str, "tenant_id": str, "name": str, "role": role, "prefix": str, "created_at": timeStr, "last_used_at": timeNull, "revoked_at": timeNull,
		}),
		"APIKeyList": obj([]string{"data", "next_cursor"}, map[string]any{"data": map[string]any{"type": "array", "items": ref("APIKey")}, "next_cursor": strOrNull}),
		"CreateTenantRequest": obj([]string{"name", "kind"}, map[string]any{
			"name": str, "kind": map[string]any{"type": "string", "enum": []string{"reseller", "creator"}},
			"slug": map[string]any{"type": "string", "pattern": "^[a-z0-9]([a-z0-9-]{1,61}[a-z0-9])$"}, "plan": str,
		}),
		"UpdateTenantRequest": obj(nil, map[string]any{"name": str, "plan": str, "status": map[string]any{"type": "string", "enum": []string{"active", "suspended"}}}),
		"Limits":              quotaMap(limitVal),
		"QuotaReport": obj([]string{"tenant_id", "limits", "usage"}, map[string]any{
			"tenant_id": str, "limits": quotaMap(limitVal), "usage": quotaMap(map[string]any{"type": "integer", "minimum": 0}),
		}),
		"BrandingRequest": obj(nil, map[string]any{
			"display_name": str, "primary_color": color, "accent_color": color, "background_color": color, "email_sender_name": str,
		}),
		"Branding": obj([]string{"display_name", "primary_color", "accent_color", "background_color", "email_sender_name", "logo_url", "custom_domains"}, map[string]any{
			"display_name": str, "primary_color": color, "accent_color": color, "background_color": color, "email_sender_name": str,
			"logo_url": strOrNull, "custom_domains": map[string]any{"type": "array", "items": ref("Domain")}, "updated_at": timeStr,
		}),
		"AddDomainRequest": obj([]string{"domain"}, map[string]any{"domain": str}),
		"Domain": obj([]string{"domain", "verified", "verification"}, map[string]any{
			"domain": str, "verified": map[string]any{"type": "boolean"}, "verified_at": timeStr,
			"verification": obj([]string{"type", "name", "value"}, map[string]any{"type": map[string]any{"const": "TXT"}, "name": str, "value": str}),
		}),
		"CreateWebhookEndpointRequest": obj([]string{"url", "events"}, map[string]any{"url": map[string]any{"type": "string", "format": "uri"}, "events": strList}),
		"WebhookEndpoint":              obj([]string{"id", "url", "events", "created_at"}, map[string]any{"id": str, "url": str, "events": strList, "created_at": timeStr}),
		"CreatedWebhookEndpoint":       obj([]string{"id", "url", "events", "created_at", "secret"}, map[string]any{"id": str, "url": str, "events": strList, "created_at": timeStr, "secret": map[string]any{"type": "string", "description": "the signing secret; shown only here"}}),
		"WebhookEndpointList":          obj([]string{"data", "next_cursor"}, map[string]any{"data": map[string]any{"type": "array", "items": ref("WebhookEndpoint")}, "next_cursor": strOrNull}),
		"WebhookDelivery": obj([]string{"id", "endpoint_id", "event_type", "payload", "status", "attempts", "attempt_log"}, map[string]any{
			"id": str, "endpoint_id": str, "event_type": str, "payload": map[string]any{"type": "object"},
			"status": map[string]any{"type": "string", "enum": []string{"pending", "delivered", "failed"}}, "attempts": integer,
			"next_attempt_at": timeNull, "created_at": timeStr, "delivered_at": timeNull,
			"attempt_log": map[string]any{"type": "array", "items": obj([]string{"n", "at", "duration_ms"}, map[string]any{"n": integer, "at": timeStr, "status_code": integer, "error": str, "duration_ms": integer})},
		}),
		"WebhookDeliveryList": obj([]string{"data", "next_cursor"}, map[string]any{"data": map[string]any{"type": "array", "items": ref("WebhookDelivery")}, "next_cursor": strOrNull}),
		"CreateUploadRequest": map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
			"size":            map[string]any{"type": "integer", "minimum": 1, "description": "the exact Upload-Length the tus client will declare; checked against the storage quota now"},
			"playback_policy": map[string]any{"type": "string", "enum": []string{"public", "signed", "drm"}, "description": "drm packages the asset encrypted (cenc and cbcs); add playback ids once it exists"},
		}},
		"CreatedUpload": obj([]string{"id", "url", "expires_at"}, map[string]any{
			"id": str, "url": map[string]any{"type": "string", "format": "uri", "description": "the tus endpoint: POST to create (Upload-Length), then HEAD and PATCH; the token in it is the credential"}, "expires_at": timeStr,
		}),
		"Upload": obj([]string{"id", "status", "offset", "size", "expires_at", "created_at"}, map[string]any{
			"id": str, "status": map[string]any{"type": "string", "enum": []string{"waiting", "asset_created"}}, "asset_id": str,
			"offset": integer, "size": map[string]any{"type": []string{"integer", "null"}}, "expires_at": timeStr, "created_at": timeStr,
		}),
		"EncodingProfile": obj([]string{"ladder"}, map[string]any{
			"ladder": map[string]any{"type": "array", "minItems": 1, "maxItems": 8, "items": obj([]string{"name", "height", "video_bitrate", "codec"}, map[string]any{
				"name": str, "width": integer, "height": integer, "video_bitrate": integer,
				"codec": map[string]any{"type": "string", "enum": []string{"h264", "hevc", "av1"}},
			})},
			"default": map[string]any{"type": "boolean"},
		}),
		"CreateAssetRequest": obj([]string{"input"}, map[string]any{
			"input":           map[string]any{"type": "string", "format": "uri"},
			"playback_policy": map[string]any{"type": "string", "enum": []string{"public", "signed", "drm"}, "description": "adds a first playback id; drm also packages the asset encrypted"},
			"access":          map[string]any{"type": "object", "description": "the first playback id's access rules (see CreatePlaybackIDRequest)"},
		}),
		"Asset": obj([]string{"id", "status", "progress", "duration", "renditions", "playback", "error", "created_at"}, map[string]any{
			"id": str, "status": map[string]any{"type": "string", "enum": []string{"waiting", "processing", "ready", "errored"}},
			"progress": map[string]any{"type": "number", "minimum": 0, "maximum": 100}, "duration": map[string]any{"type": []string{"number", "null"}},
			"renditions":   map[string]any{"type": "array", "items": obj(nil, map[string]any{"name": str, "width": integer, "height": integer, "bitrate": integer, "codec": str})},
			"has_audio":    map[string]any{"type": "boolean"},
			"protected":    map[string]any{"type": "boolean"},
			"playback_ids": map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
			"playback":     map[string]any{"type": []string{"object", "null"}, "properties": map[string]any{"hls": str, "dash": str}},
			"error":        map[string]any{"type": []string{"object", "null"}, "properties": map[string]any{"code": str, "message": str}},
			"created_at":   timeStr, "updated_at": timeStr,
		}),
		"AssetList": obj([]string{"data", "next_cursor"}, map[string]any{"data": map[string]any{"type": "array", "items": ref("Asset")}, "next_cursor": strOrNull}),
		"Node": obj([]string{"id", "name", "healthy"}, map[string]any{
			"id": str, "name": str, "cores": integer, "gpu": str, "encoders": strList, "hwaccels": strList, "queues": strList,
			"capacity": integer, "running": integer, "draining": map[string]any{"type": "boolean"}, "healthy": map[string]any{"type": "boolean"},
			"registered_at": timeStr, "last_seen_at": timeStr,
		}),
		"NodeList":         obj([]string{"data", "next_cursor"}, map[string]any{"data": map[string]any{"type": "array", "items": ref("Node")}, "next_cursor": strOrNull}),
		"NodeRegistration": obj([]string{"name", "cores", "queues", "capacity"}, map[string]any{"name": str, "cores": integer, "gpu": str, "encoders": strList, "hwaccels": strList, "queues": strList, "capacity": integer}),
		"NodeToken":        obj([]string{"id", "token"}, map[string]any{"id": str, "token": str}),
		"NodeHeartbeat":    obj(nil, map[string]any{"running": integer, "draining": map[string]any{"type": "boolean"}}),
		"StartJobRequest":  obj([]string{"attempt"}, map[string]any{"attempt": str}),
		"JobLease":         obj([]string{"job_id", "attempt", "attempts", "lease_seconds"}, map[string]any{"job_id": str, "attempt": str, "attempts": integer, "lease_seconds": integer}),
		"JobProgress":      obj([]string{"attempt", "percent"}, map[string]any{"job_id": str, "attempt": str, "percent": map[string]any{"type": "number"}}),
		"JobResult": obj([]string{"attempt"}, map[string]any{
			"job_id": str, "attempt": str, "duration": map[string]any{"type": "number"}, "audio": map[string]any{"type": "boolean"}, "staging_key": str, "elapsed": integer,
			"error":      map[string]any{"type": "object", "properties": map[string]any{"code": str, "retryable": map[string]any{"type": "boolean"}, "message": str}},
			"renditions": map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
			"usage":      map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
		}),
		"PublicBranding": obj([]string{"slug", "display_name", "primary_color", "accent_color", "background_color", "logo_url"}, map[string]any{
			"slug": str, "display_name": str, "primary_color": color, "accent_color": color, "background_color": color, "logo_url": strOrNull,
		}),
	}
}

func quotaMap(v map[string]any) map[string]any {
	props := map[string]any{}
	for _, k := range []string{"storage_bytes", "transcode_minutes_per_month", "assets", "concurrent_jobs", "sub_tenants", "egress_gb_per_month"} {
		props[k] = v
	}
	return obj(nil, props)
}
