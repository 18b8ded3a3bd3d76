package marquee.access_test

import data.marquee.access

test_active_tenant_may_write if {
	access.decision.allow with input as {"tenant_kind": "creator", "tenant_status": "active", "object": "branding", "action": "write"}
}

test_suspended_tenant_may_read if {
	access.decision.allow with input as {"tenant_kind": "creator", "tenant_status": "suspended", "object": "branding", "action": "read"}
}

test_suspended_tenant_may_not_write if {
	d := access.decision with input as {"tenant_kind": "reseller", "tenant_status": "suspended", "object": "subtenant", "action": "create"}
	not d.allow
	d.code == "tenant_suspended"
}

test_suspended_tenant_may_pay_invoices if {
	access.decision.allow with input as {"tenant_kind": "creator", "tenant_status": "suspended", "object": "invoice", "action": "write"}
}

test_unknown_status_is_refused if {
	d := access.decision with input as {"tenant_kind": "creator", "tenant_status": "deleted", "object": "tenant", "action": "read"}
	not d.allow
}

test_ops_only_in_the_platform_tenant if {
	access.decision.allow with input as {"tenant_kind": "platform", "tenant_status": "active", "object": "ops", "action": "read"}
	d := access.decision with input as {"tenant_kind": "reseller", "tenant_status": "active", "object": "ops", "action": "read"}
	not d.allow
	d.code == "forbidden"
}
