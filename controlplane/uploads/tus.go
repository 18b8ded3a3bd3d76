package uploads

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	tusd "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
	xslog "golang.org/x/exp/slog"

	"github.com/marquee-video/marquee/internal/errs"
)

// metaTenant is the tusd metadata key that names the owning tenant, so a
// partial upload on disk says whose it is.
const metaTenant = "marquee_tenant"

// finishTimeLimit bounds moving a finished upload into object storage.
const finishTimeLimit = 30 * time.Minute

type grantKey struct{}

func (s *Service) newTus() error {
	composer := tusd.NewStoreComposer()
	s.store.UseIn(composer)
	memorylocker.New().UseIn(composer)
	h, err := tusd.NewUnroutedHandler(tusd.Config{
		StoreComposer: composer,
		// Locations are rewritten to carry the token (locationWriter); the
		// base path only has to be well-formed.
		BasePath: "/v1/uploads/tus/",
		// No MaxSize here: preCreate refuses deferred lengths and lengths
		// over cfg.MaxSize, with the API's problem+json rather than
		// tusd's plain text.
		DisableDownload:      true,
		DisableTermination:   true,
		DisableConcatenation: true,
		// tusd logs through golang.org/x/exp/slog, which log/slog handlers
		// cannot serve; failures that matter are logged by preFinish.
		Logger:                    xslog.New(xslog.NewTextHandler(io.Discard, nil)),
		PreUploadCreateCallback:   s.preCreate,
		PreFinishResponseCallback: s.preFinish,
	})
	if err != nil {
		return err
	}
	s.tus = h
	return nil
}

// CheckCreate decides a tus creation request; preCreate calls it for every one:
// the upload was reserved and is not done, its length is declared, within
// the hard maximum and the reserved size, and the tenant's storage quota
// has room for it.
func (s *Service) CheckCreate(ctx context.Context, g Grant, uploadLength string) error {
	r, err := s.load(ctx, g.TenantID, g.UploadID)
	if err != nil {
		return err
	}
	if r.AssetID != "" {
		return errs.E(errs.Conflict, "upload_finished", "upload %s already became asset %s", r.ID, r.AssetID)
	}
	size, err := strconv.ParseInt(uploadLength, 10, 64)
	if err != nil || size < 1 {
		return errs.E(errs.Invalid, "upload_length_required", "send Upload-Length with the file's size in bytes (deferred lengths are not accepted)")
	}
	if size > s.cfg.MaxSize {
		return tooLarge(size, s.cfg.MaxSize)
	}
	if r.Size != nil && *r.Size != size {
		return errs.E(errs.Invalid, "upload_length_mismatch", "Upload-Length %d is not the size %d this upload was created with", size, *r.Size)
	}
	if _, err := s.info(ctx, g.UploadID); err == nil {
		return errs.E(errs.Conflict, "upload_exists", "upload %s was already started; resume it with HEAD and PATCH", g.UploadID)
	} else if !errors.Is(err, tusd.ErrNotFound) {
		return err
	}
	return s.admit(ctx, g.TenantID, size)
}

// Tus serves one tus request for the upload g opens: POST creates it (after
// CheckCreate), HEAD (and GET) report its offset, PATCH appends a chunk.
// location is the upload's tus URL, which a creation answers with. ctx
// replaces the request's context: behind fiber's adaptor that is fasthttp's
// pooled RequestCtx, which tusd's contexts must not outlive.
func (s *Service) Tus(ctx context.Context, g Grant, location string) http.Handler {
	serve := s.tus.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// tusd takes the upload id from the path; ours is in the token.
		r.URL.Path = "/" + g.UploadID
		switch r.Method {
		case http.MethodPost:
			s.tus.PostFile(w, r)
		case http.MethodHead, http.MethodGet:
			s.tus.HeadFile(w, r)
		case http.MethodPatch:
			s.tus.PatchFile(w, r)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// tusd keeps the writer it is first given, so the Location rewrite
		// wraps it here, outside its middleware.
		serve.ServeHTTP(&locationWriter{ResponseWriter: w, location: location}, r.WithContext(context.WithValue(ctx, grantKey{}, g)))
	})
}

func grantOf(ctx context.Context) (Grant, bool) {
	g, ok := ctx.Value(grantKey{}).(Grant)
	return g, ok && g.UploadID != ""
}

// preCreate checks a creation (CheckCreate: reserved, sized, within the
// maximum and the storage quota), then names the tus upload after the
// reserved upload and stamps it with its tenant. The check lives here, in
// the hook tusd runs for every creation, rather than in front of tusd,
// which would have to guess the effective method (tusd honours
// X-HTTP-Method-Override).
func (s *Service) preCreate(hook tusd.HookEvent) (tusd.HTTPResponse, tusd.FileInfoChanges, error) {
	g, ok := grantOf(hook.Context)
	if !ok {
		return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, problem(errs.E(errs.Forbidden, "upload_token_invalid", "this upload URL is not valid"))
	}
	length := ""
	if !hook.Upload.SizeIsDeferred {
		length = strconv.FormatInt(hook.Upload.Size, 10)
	}
	if err := s.CheckCreate(hook.Context, g, length); err != nil {
		return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, problem(err)
	}
	meta := tusd.MetaData{}
	for k, v := range hook.Upload.MetaData {
		if k != metaTenant && len(meta) < 16 && len(k) <= 64 && len(v) <= 1024 {
			meta[k] = v
		}
	}
	meta[metaTenant] = g.TenantID
	return tusd.HTTPResponse{}, tusd.FileInfoChanges{ID: g.UploadID, MetaData: meta}, nil
}

// preFinish runs when the last byte has arrived, before the final PATCH is
// answered: the client learns of success only once the asset exists.
func (s *Service) preFinish(hook tusd.HookEvent) (tusd.HTTPResponse, error) {
	g, ok := grantOf(hook.Context)
	if !ok || hook.Upload.ID != g.UploadID || hook.Upload.MetaData[metaTenant] != g.TenantID {
		return tusd.HTTPResponse{}, problem(errs.E(errs.Forbidden, "upload_token_invalid", "this upload URL is not valid"))
	}
	// The move must not stop half-way because the client hung up.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(hook.Context), finishTimeLimit)
	defer cancel()
	assetID, err := s.finish(ctx, g, hook.Upload)
	if err != nil {
		s.cfg.Log.ErrorContext(ctx, "finish upload", "tenant", g.TenantID, "upload", g.UploadID, "err", err)
		return tusd.HTTPResponse{}, problem(err)
	}
	return tusd.HTTPResponse{Header: tusd.HTTPHeader{"Marquee-Asset-Id": assetID}}, nil
}

// finish moves the upload into object storage, creates its asset, records
// which asset it became and removes the partial file. Run again after a
// failure it starts over; once the record names an asset it does nothing.
func (s *Service) finish(ctx context.Context, g Grant, info tusd.FileInfo) (string, error) {
	r, err := s.load(ctx, g.TenantID, g.UploadID)
	if err != nil {
		return "", err
	}
	if r.AssetID != "" {
		return r.AssetID, nil
	}
	path := info.Storage["Path"]
	if path == "" {
		return "", errors.New("uploads: the filestore did not say where the upload is")
	}
	key := SourceKey(g.TenantID, g.UploadID)
	if err := s.cfg.Objects.PutFile(ctx, key, path, "application/octet-stream"); err != nil {
		return "", err
	}
	a, err := s.cfg.Assets.CreateFromUpload(ctx, g.TenantID, key, info.Size, r.Protected)
	if err != nil {
		return "", err
	}
	size := info.Size
	r.AssetID, r.Size = a.ID, &size
	if err := s.save(ctx, r); err != nil {
		return "", err
	}
	if up, err := s.store.GetUpload(ctx, g.UploadID); err == nil {
		err = s.store.AsTerminatableUpload(up).Terminate(ctx)
		if err != nil {
			s.cfg.Log.WarnContext(ctx, "remove finished upload's partial file", "upload", g.UploadID, "err", err)
		}
	}
	return a.ID, nil
}

// problem turns a domain error into a tusd error with a problem+json body,
// so tus clients see the same errors as the rest of the API.
func problem(err error) error {
	e := errs.As(err)
	if e == nil || e.Kind == errs.Internal {
		e = errs.E(errs.Internal, "internal", "something went wrong on our side")
	}
	status := e.Kind.Status()
	code := e.Code
	if code == "" {
		code = e.Kind.DefaultCode()
	}
	body, _ := json.Marshal(map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status, "code": code, "detail": e.Message})
	return tusd.Error{ErrorCode: code, Message: e.Message, HTTPResponse: tusd.HTTPResponse{
		StatusCode: status, Body: string(body), Header: tusd.HTTPHeader{"Content-Type": "application/problem+json"},
	}}
}

// locationWriter answers a creation with the token-bearing URL instead of
// tusd's, which would name the bare upload id.
type locationWriter struct {
	http.ResponseWriter
	location string
}

func (w *locationWriter) WriteHeader(code int) {
	if w.Header().Get("Location") != "" {
		w.Header().Set("Location", w.location)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *locationWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
