package objects

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/marquee-video/marquee/internal/errs"
)

var _ Store = (*S3)(nil)

// MaxS3PutSize is the largest object S3 accepts in one PutObject. Multipart
// upload would lift it, but the SDK's upload manager
// (feature/s3/manager) is not among this module's requirements.
const MaxS3PutSize = 5 << 30

// maxS3Page is S3's own ceiling for a listing page and a DeleteObjects batch.
const maxS3Page = 1000

// S3Config points at a bucket of an S3-compatible service.
type S3Config struct {
	// Endpoint is the service's base URL ("http://127.0.0.1:9000"); empty
	// means AWS itself.
	Endpoint string
	// Region defaults to us-east-1, which most S3-compatible servers accept.
	Region string
	Bucket string
	// AccessKey and SecretKey are static credentials; when empty the SDK's
	// default chain (environment, shared files, instance role) is used.
	AccessKey string
	SecretKey string
	// PathStyle addresses the bucket as a path (MinIO, gofakes3, Ceph)
	// rather than as a virtual host.
	PathStyle bool
	// Prefix is prepended to every key, so several deployments can share a
	// bucket ("marquee/"). Keys passed to and returned by the store never
	// include it.
	Prefix string
	// ListPageSize is the number of keys asked for per listing page, at most
	// (and by default) 1000.
	ListPageSize int
}

// S3 stores objects in an S3-compatible bucket.
type S3 struct {
	client   *s3.Client
	bucket   string
	prefix   string
	pageSize int32
}

// NewS3 returns a store for cfg's bucket. It makes no request: a wrong
// bucket or credentials show up on first use.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errs.Field("bucket", "an S3 bucket is required")
	}
	prefix := cfg.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if err := checkPrefix(prefix); err != nil {
		return nil, errs.Field("prefix", "S3 prefix %q is not a clean relative path", cfg.Prefix)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	pageSize := cfg.ListPageSize
	if pageSize <= 0 || pageSize > maxS3Page {
		pageSize = maxS3Page
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(cfg.Region),
		// Checksums only where the API demands them (DeleteObjects): the
		// default also wants them on PutObject, which needs a seekable body
		// or TLS, and several S3-compatible servers reject them.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if cfg.AccessKey != "" || cfg.SecretKey != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("objects: s3 config: %w", err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
	})
	return &S3{client: client, bucket: cfg.Bucket, prefix: prefix, pageSize: int32(pageSize)}, nil
}

// Put uploads the object with one PutObject; S3 makes it visible only once
// complete. A body that cannot seek is sent with an unsigned payload (the
// signature then covers the headers only), and one of unknown size is first
// spooled to a temporary file, since S3 needs the length up front.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if size < 0 {
		if sk, ok := r.(io.Seeker); ok {
			n, err := remaining(sk)
			if err != nil {
				return fmt.Errorf("objects: put %s: %w", key, err)
			}
			size = n
		} else {
			f, n, err := spool(r)
			if err != nil {
				return fmt.Errorf("objects: put %s: %w", key, err)
			}
			defer os.Remove(f.Name())
			defer f.Close()
			r, size = f, n
		}
	}
	if size > MaxS3PutSize {
		return errs.E(errs.TooLarge, "object_too_large", "objects over %d bytes are not supported by this store", int64(MaxS3PutSize))
	}
	in := &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           aws.String(s.prefix + key),
		Body:          r,
		ContentLength: aws.Int64(size),
	}
	if contentType != "" {
		in.ContentType = &contentType
	}
	var optFns []func(*s3.Options)
	if _, ok := r.(io.Seeker); !ok {
		optFns = append(optFns, s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware))
	}
	if _, err := s.client.PutObject(ctx, in, optFns...); err != nil {
		return s.fail("put", key, err)
	}
	return nil
}

// Get opens the object for reading.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key)})
	if err != nil {
		return nil, s.fail("get", key, err)
	}
	return out.Body, nil
}

// Delete removes the object; S3 itself treats a missing one as deleted.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key)})
	if err == nil {
		return nil
	}
	if err = s.fail("delete", key, err); errs.KindOf(err) == errs.NotFound {
		return nil // some S3-compatible servers answer 404
	}
	return err
}

// Stat describes the object with a HEAD request.
func (s *S3) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return ObjectInfo{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key)})
	if err != nil {
		return ObjectInfo{}, s.fail("stat", key, err)
	}
	return ObjectInfo{
		Key:         key,
		Size:        aws.ToInt64(out.ContentLength),
		ContentType: aws.ToString(out.ContentType),
		ModTime:     aws.ToTime(out.LastModified),
	}, nil
}

// List pages through ListObjectsV2.
func (s *S3) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	out := []ObjectInfo{}
	err := s.eachPage(ctx, prefix, func(page []types.Object) error {
		for _, o := range page {
			key, ok := strings.CutPrefix(aws.ToString(o.Key), s.prefix)
			if !ok {
				continue
			}
			out = append(out, ObjectInfo{Key: key, Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified)})
		}
		return nil
	})
	if err != nil {
		return nil, s.fail("list", prefix, err)
	}
	return out, nil
}

// DeletePrefix deletes each listing page (at most 1000 keys, S3's
// DeleteObjects limit) as one batch.
func (s *S3) DeletePrefix(ctx context.Context, prefix string) (int, error) {
	if err := checkDeletePrefix(prefix); err != nil {
		return 0, err
	}
	n := 0
	err := s.eachPage(ctx, prefix, func(page []types.Object) error {
		if len(page) == 0 {
			return nil
		}
		ids := make([]types.ObjectIdentifier, len(page))
		for i, o := range page {
			ids[i] = types.ObjectIdentifier{Key: o.Key}
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &s.bucket,
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return err
		}
		n += len(ids) - len(out.Errors)
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("%d keys not deleted, first %s: %s %s",
				len(out.Errors), aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
		return nil
	})
	if err != nil {
		return n, s.fail("delete prefix", prefix, err)
	}
	return n, nil
}

// PutFile uploads the file at src with one PutObject; the file is read twice,
// once to sign its SHA-256 and once to send it.
func (s *S3) PutFile(ctx context.Context, key, src, contentType string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	f, size, err := openSized(src)
	if err != nil {
		return fmt.Errorf("objects: put file %s: %w", key, err)
	}
	defer f.Close()
	return s.Put(ctx, key, f, size, contentType)
}

// eachPage calls fn with every listing page under prefix. Deleting a page's
// keys inside fn is safe: the continuation token points past them.
func (s *S3) eachPage(ctx context.Context, prefix string, fn func([]types.Object) error) error {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket:  &s.bucket,
		Prefix:  aws.String(s.prefix + prefix),
		MaxKeys: aws.Int32(s.pageSize),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		if err := fn(page.Contents); err != nil {
			return err
		}
	}
	return nil
}

// fail translates an SDK error into the errs kinds, once, here.
func (s *S3) fail(op, key string, err error) error {
	code, status := "", 0
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	switch {
	case code == "NoSuchKey",
		status == http.StatusNotFound && (code == "NotFound" || code == ""): // HEAD has no error body
		return errs.NotFoundf("object not found")
	case code == "SlowDown", status >= 500:
		return errs.Wrap(errs.Unavailable, "storage_unavailable", err, "object storage is unavailable")
	}
	return fmt.Errorf("objects: %s %s: %w", op, key, err)
}

// remaining is the number of bytes from sk's position to its end, leaving
// the position where it was.
func remaining(sk io.Seeker) (int64, error) {
	cur, err := sk.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	end, err := sk.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	if _, err := sk.Seek(cur, io.SeekStart); err != nil {
		return 0, err
	}
	return end - cur, nil
}

// spool copies r to a temporary file and rewinds it.
func spool(r io.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "marquee-s3-put-*")
	if err != nil {
		return nil, 0, err
	}
	n, err := io.Copy(f, r)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, err
	}
	return f, n, nil
}
