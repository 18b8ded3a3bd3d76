# Quota decisions for Marquee tenants. Limits are counts or sizes; null means
# unlimited. Numbers in rego are arbitrary precision, so used + requested
# cannot overflow here even when it would in int64.
package marquee.quota

# resources are the quotas a plan or a parent can set.
resources := {
	"storage_bytes",
	"transcode_minutes_per_month",
	"assets",
	"concurrent_jobs",
	"sub_tenants",
	"egress_gb_per_month",
}

# decision answers a request to consume a quota:
#   input {"resource": string, "limit": number | null, "used": number, "requested": number}
#   => {"allow": bool, "reason": string}; reason is "" when allowed.
# The allowed case is tried first because it is the common one and the
# cheapest to decide; a denial names the first check that fails.
decision := allow if {
	input.resource in resources
	positive_integer(input.requested)
	non_negative_integer(input.used)
	within_limit
} else := deny(sprintf("unknown quota resource %q", [input.resource])) if {
	not input.resource in resources
} else := deny(sprintf("%s: requested must be a positive integer, got %v", [input.resource, input.requested])) if {
	not positive_integer(input.requested)
} else := deny(sprintf("%s: used must be a non-negative integer, got %v", [input.resource, input.used])) if {
	not non_negative_integer(input.used)
} else := deny(sprintf("%s: limit must be null or a non-negative integer, got %v", [input.resource, input.limit])) if {
	input.limit != null
	not non_negative_integer(input.limit)
} else := deny(sprintf("%s quota of %d reached (%d used, %d requested)", [input.resource, input.limit, input.used, input.requested]))

allow := {"allow": true, "reason": ""}

deny(reason) := {"allow": false, "reason": reason}

within_limit if input.limit == null

within_limit if {
	non_negative_integer(input.limit)
	input.used + input.requested <= input.limit
}

positive_integer(n) if {
	is_number(n)
	n > 0
	n == round(n)
}

non_negative_integer(n) if {
	is_number(n)
	n >= 0
	n == round(n)
}

# child_limit_violations lists what is wrong with the limits a parent sets on
# a child:
#   input {"parent": {resource: number | null}, "child": {resource: number | null}}
# A resource missing from either side is unlimited there. The child may not be
# unlimited, nor above the parent, where the parent is limited; a child limit
# may never be negative nor name an unknown resource.
child_limit_violations contains msg if {
	some resource in resources
	parent := limit(input.parent, resource)
	parent != null
	limit(input.child, resource) == null
	msg := sprintf("%s: child is unlimited but the parent's limit is %d", [resource, parent])
}

child_limit_violations contains msg if {
	some resource in resources
	parent := limit(input.parent, resource)
	is_number(parent)
	child := limit(input.child, resource)
	is_number(child)
	child > parent
	msg := sprintf("%s: child limit %d exceeds the parent's limit %d", [resource, child, parent])
}

child_limit_violations contains msg if {
	some resource in resources
	child := limit(input.child, resource)
	is_number(child)
	child < 0
	msg := sprintf("%s: child limit %d is negative", [resource, child])
}

child_limit_violations contains msg if {
	some resource, _ in input.child
	not resource in resources
	msg := sprintf("unknown quota resource %q", [resource])
}

limit(limits, resource) := object.get(limits, resource, null)
