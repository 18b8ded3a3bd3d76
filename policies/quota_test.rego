package marquee.quota_test

import data.marquee.quota

test_decision_allows_within_limit if {
	quota.decision == {"allow": true, "reason": ""} with input as {"resource": "sub_tenants", "limit": 10, "used": 8, "requested": 1}
}

test_decision_allows_reaching_limit_exactly if {
	quota.decision.allow with input as {"resource": "sub_tenants", "limit": 10, "used": 9, "requested": 1}
}

test_decision_denies_over_limit if {
	d := quota.decision with input as {"resource": "sub_tenants", "limit": 10, "used": 10, "requested": 1}
	d == {"allow": false, "reason": "sub_tenants quota of 10 reached (10 used, 1 requested)"}
}

test_decision_denies_request_larger_than_headroom if {
	d := quota.decision with input as {"resource": "assets", "limit": 100, "used": 90, "requested": 11}
	d == {"allow": false, "reason": "assets quota of 100 reached (90 used, 11 requested)"}
}

test_decision_unlimited if {
	quota.decision.allow with input as {"resource": "storage_bytes", "limit": null, "used": 1e15, "requested": 1e12}
}

test_decision_zero_limit_denies if {
	not quota.decision.allow with input as {"resource": "concurrent_jobs", "limit": 0, "used": 0, "requested": 1}
}

test_decision_requested_must_be_positive if {
	every requested in [0, -1, 0.5, "1", null] {
		d := quota.decision with input as {"resource": "assets", "limit": null, "used": 0, "requested": requested}
		not d.allow
		startswith(d.reason, "assets: requested must be a positive integer")
	}
}

test_decision_used_must_not_be_negative if {
	d := quota.decision with input as {"resource": "assets", "limit": 10, "used": -1, "requested": 1}
	not d.allow
	startswith(d.reason, "assets: used must be a non-negative integer")
}

test_decision_limit_must_be_a_non_negative_integer if {
	every limit in [-1, "10", 1.5, {}] {
		d := quota.decision with input as {"resource": "assets", "limit": limit, "used": 0, "requested": 1}
		not d.allow
		startswith(d.reason, "assets: limit must be null or a non-negative integer")
	}
}

test_decision_unknown_resource if {
	d := quota.decision with input as {"resource": "bananas", "limit": null, "used": 0, "requested": 1}
	d == {"allow": false, "reason": "unknown quota resource \"bananas\""}
}

test_decision_large_numbers_do_not_overflow if {
	# 2^63 - 1 used: in int64 one more would wrap around.
	d := quota.decision with input as {"resource": "storage_bytes", "limit": 9223372036854775807, "used": 9223372036854775807, "requested": 1}
	not d.allow
}

test_child_within_parent_is_fine if {
	count(quota.child_limit_violations) == 0 with input as {
		"parent": {"storage_bytes": 100, "assets": null},
		"child": {"storage_bytes": 100, "assets": null},
	}
}

test_child_unlimited_under_limited_parent if {
	quota.child_limit_violations == {"storage_bytes: child is unlimited but the parent's limit is 100"} with input as {
		"parent": {"storage_bytes": 100},
		"child": {"storage_bytes": null},
	}
}

test_child_missing_resource_is_unlimited if {
	quota.child_limit_violations == {"assets: child is unlimited but the parent's limit is 5"} with input as {
		"parent": {"assets": 5},
		"child": {},
	}
}

test_child_above_parent if {
	quota.child_limit_violations == {"concurrent_jobs: child limit 11 exceeds the parent's limit 10"} with input as {
		"parent": {"concurrent_jobs": 10},
		"child": {"concurrent_jobs": 11},
	}
}

test_child_negative if {
	quota.child_limit_violations == {"egress_gb_per_month: child limit -1 is negative"} with input as {
		"parent": {"egress_gb_per_month": null},
		"child": {"egress_gb_per_month": -1},
	}
}

test_child_unknown_resource if {
	quota.child_limit_violations == {"unknown quota resource \"bananas\""} with input as {
		"parent": {},
		"child": {"bananas": 1},
	}
}

test_unlimited_parent_allows_anything if {
	count(quota.child_limit_violations) == 0 with input as {
		"parent": {},
		"child": {"storage_bytes": null, "sub_tenants": 1000000},
	}
}

test_several_violations if {
	quota.child_limit_violations == {
		"assets: child limit 20 exceeds the parent's limit 10",
		"sub_tenants: child is unlimited but the parent's limit is 3",
	} with input as {
		"parent": {"assets": 10, "sub_tenants": 3},
		"child": {"assets": 20, "sub_tenants": null},
	}
}
