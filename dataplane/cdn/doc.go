// Package cdn is Marquee's multi-CDN library: the playback/manifest service
// calls it to sign every segment URL for the CDN a viewer is sent to, to
// decide which CDNs a session should try and in what order, and to render the
// content-steering tags and steering-server responses that let HLS and DASH
// players switch CDN in the middle of a session.
//
// Three parts, each usable on its own:
//
//   - Signers (NewSigner): one per provider token scheme: CloudFront signed
//     URLs (canned or custom policy), Akamai EdgeAuth 2.0, Fastly's URL token
//     validation VCL, Bunny CDN token authentication, nginx secure_link, and
//     Marquee's own HMAC scheme (Generic), whose Verify our origin runs.
//     Signing is on the hot path (every segment of every manifest), so
//     signers precompute what they can and are safe for concurrent use.
//   - Health: active canary probes (Prober) and passive reports from players
//     and edges feed a per-CDN state with hysteresis; Priority orders the CDNs
//     for one session: healthy before unhealthy, then region match, then a
//     weighted order seeded by the session id so that load spreads by weight
//     while one session keeps a stable order across manifest reloads.
//   - Content steering: the HLS #EXT-X-CONTENT-STEERING tag and PATHWAY-ID
//     attribute, the DASH <ContentSteering> and <BaseURL serviceLocation>
//     elements, and the steering-server JSON for both (HLS Content Steering
//     specification / draft-pantos-hls-rfc8216bis, DASH-IF Content Steering).
//
// The package holds no package-level state; time comes from an injectable
// clock. Package cdntest starts real nginx edges for tests.
package cdn
