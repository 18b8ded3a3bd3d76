# Playback entitlement: may this viewer play this playback id, here, now?
# Asked on every manifest and license request after the token is verified.
# Time-dependent facts (is a rental still in its window) are computed by the
# caller, so the decision depends on its input alone and can be memoized.
package marquee.playback

# decision answers:
#   input {
#     "model": "free" | "avod" | "svod" | "tvod", "tier": string,
#     "rating_age": number (-1: unrated), "allow_countries": [string], "deny_countries": [string],
#     "token_allow_countries": [string], "token_deny_countries": [string], "token_tier": string,
#     "country": string ("" when unknown),
#     "viewer_tiers": [string],            # active subscriptions
#     "has_rental": bool, "rental_expired": bool, "has_purchase": bool,
#     "profile_age_limit": number (-1: none)
#   }
#   => {"allow": bool, "code": string, "reason": string, "ads": bool}
decision := deny("geo_blocked", "this video is not available in your country") if {
	geo_blocked
} else := deny("rating_restricted", "this video is rated above this profile's limit") if {
	input.rating_age >= 0
	input.profile_age_limit >= 0
	input.rating_age > input.profile_age_limit
} else := allow(false) if {
	input.model == "free"
} else := allow(true) if {
	input.model == "avod"
} else := allow(false) if {
	input.model == "svod"
	subscribed
} else := allow(false) if {
	input.model == "tvod"
	input.has_purchase
} else := allow(false) if {
	input.model == "tvod"
	input.has_rental
} else := deny("not_entitled", "the rental of this video has expired") if {
	input.model == "tvod"
	input.rental_expired
} else := deny("not_entitled", sprintf("this video needs a subscription to %q", [input.tier])) if {
	input.model == "svod"
} else := deny("not_entitled", "this video needs a rental or a purchase") if {
	input.model == "tvod"
} else := deny("invalid_request", sprintf("unknown model %q", [input.model]))

subscribed if input.tier in input.viewer_tiers

subscribed if input.token_tier == input.tier

# Geo: the playback id's lists and the token's lists both apply. An allow
# list needs a known country (fail closed); a deny list blocks only a known
# one.
geo_blocked if {
	count(input.allow_countries) > 0
	not input.country in input.allow_countries
}

geo_blocked if {
	count(input.token_allow_countries) > 0
	not input.country in input.token_allow_countries
}

geo_blocked if {
	input.country != ""
	input.country in input.deny_countries
}

geo_blocked if {
	input.country != ""
	input.country in input.token_deny_countries
}

allow(ads) := {"allow": true, "code": "", "reason": "", "ads": ads}

deny(code, reason) := {"allow": false, "code": code, "reason": reason, "ads": false}
