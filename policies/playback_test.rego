package marquee.playback_test

import data.marquee.playback

base := {
	"model": "free", "tier": "", "rating_age": -1,
	"allow_countries": [], "deny_countries": [],
	"token_allow_countries": [], "token_deny_countries": [], "token_tier": "",
	"country": "", "viewer_tiers": [],
	"has_rental": false, "rental_expired": false, "has_purchase": false,
	"profile_age_limit": -1,
}

test_free_plays if playback.decision.allow with input as base

test_avod_plays_with_ads if {
	d := playback.decision with input as object.union(base, {"model": "avod"})
	d.allow
	d.ads
}

test_allow_list_needs_known_country if {
	d := playback.decision with input as object.union(base, {"allow_countries": ["US"]})
	d.code == "geo_blocked"
}

test_allow_list_admits_country if playback.decision.allow with input as object.union(base, {"allow_countries": ["US"], "country": "US"})

test_deny_list_blocks if {
	d := playback.decision with input as object.union(base, {"deny_countries": ["FR"], "country": "FR"})
	d.code == "geo_blocked"
}

test_token_deny_list_blocks if {
	d := playback.decision with input as object.union(base, {"token_deny_countries": ["DE"], "country": "DE"})
	d.code == "geo_blocked"
}

test_deny_list_unknown_country_plays if playback.decision.allow with input as object.union(base, {"deny_countries": ["FR"]})

test_rating_above_limit if {
	d := playback.decision with input as object.union(base, {"rating_age": 17, "profile_age_limit": 13})
	d.code == "rating_restricted"
}

test_rating_within_limit if playback.decision.allow with input as object.union(base, {"rating_age": 13, "profile_age_limit": 13})

test_svod_needs_tier if {
	d := playback.decision with input as object.union(base, {"model": "svod", "tier": "gold", "viewer_tiers": ["silver"]})
	d.code == "not_entitled"
}

test_svod_subscribed if playback.decision.allow with input as object.union(base, {"model": "svod", "tier": "gold", "viewer_tiers": ["silver", "gold"]})

test_svod_token_tier if playback.decision.allow with input as object.union(base, {"model": "svod", "tier": "gold", "token_tier": "gold"})

test_tvod_rental if playback.decision.allow with input as object.union(base, {"model": "tvod", "has_rental": true})

test_tvod_expired_rental if {
	d := playback.decision with input as object.union(base, {"model": "tvod", "rental_expired": true})
	d.code == "not_entitled"
	contains(d.reason, "expired")
}

test_tvod_purchase_outlives_expired_rental if playback.decision.allow with input as object.union(base, {"model": "tvod", "rental_expired": true, "has_purchase": true})

test_geo_before_entitlement if {
	d := playback.decision with input as object.union(base, {"model": "svod", "tier": "gold", "viewer_tiers": ["gold"], "deny_countries": ["KP"], "country": "KP"})
	d.code == "geo_blocked"
}
