# Access decisions that depend on the acting tenant's state rather than on the
# caller's role (casbin answers that). A suspended tenant, or one under a
# suspended ancestor, keeps read access to its data (and to billing, so it can
# settle what got it suspended) but cannot change anything.
package marquee.access

read_actions := {"read"}

# Objects a suspended tenant may still write: paying an invoice restores it.
writable_when_suspended := {"invoice"}

# decision answers:
#   input {"tenant_kind": string, "tenant_status": "active" | "suspended", "object": string, "action": string}
#   => {"allow": bool, "code": string, "reason": string}
decision := deny("invalid_request", sprintf("unknown tenant status %q", [input.tenant_status])) if {
	not input.tenant_status in {"active", "suspended"}
} else := deny("forbidden", "platform operations are only available in the platform tenant") if {
	input.object == "ops"
	input.tenant_kind != "platform"
} else := allow if {
	input.tenant_status == "active"
} else := allow if {
	input.action in read_actions
} else := allow if {
	input.object in writable_when_suspended
} else := deny("tenant_suspended", "this tenant is suspended: its data can be read but not changed; contact the tenant above it")

allow := {"allow": true, "code": "", "reason": ""}

deny(code, reason) := {"allow": false, "code": code, "reason": reason}
