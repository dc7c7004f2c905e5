#include "btl/net/http_client.hpp"

#include <curl/curl.h>

#include <cstring>
#include <utility>

#include "btl/net/curl_loop.hpp"

namespace btl {

// One transfer's state.  Owned by the HttpGet; the CurlLoop only calls back
// while the easy handle is registered, and ~HttpGet unregisters it first.
struct HttpGet::Impl {
    HttpOptions opt;
    std::shared_ptr<CurlLoop> curl;
    CURL* easy = nullptr;
    Callback cb;
    std::string body;
    size_t taken = 0;          // header + body bytes seen, across redirects
    bool too_large = false;
    char errbuf[CURL_ERROR_SIZE] = {};

    ~Impl() {
        if (easy) {
            curl->remove(easy);
            curl_easy_cleanup(easy);
        }
    }

    // False (and libcurl aborts) once the response passes max_bytes: a lying
    // tracker's endless header or body, or a gzip bomb (counted decoded).
    bool take(size_t n) {
        taken += n;
        if (taken > opt.max_bytes) too_large = true;
        return !too_large;
    }
    static size_t on_body(char* p, size_t size, size_t n, void* ud) {
        auto* self = static_cast<Impl*>(ud);
        if (!self->take(size * n)) return 0;
        self->body.append(p, size * n);
        return size * n;
    }
    static size_t on_header(char*, size_t size, size_t n, void* ud) {
        return static_cast<Impl*>(ud)->take(size * n) ? size * n : 0;
    }

    void configure(const std::string& url);
    std::string host() const;
    std::string describe(CURLcode rc) const;
    Result<HttpResponse> result(CURLcode rc);
};

namespace {

std::string url_part(const std::string& url, CURLUPart part) {
    std::string out;
    CURLU* u = curl_url();
    char* v = nullptr;
    if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK && curl_url_get(u, part, &v, 0) == CURLUE_OK && v)
        out = v;
    curl_free(v);
    curl_url_cleanup(u);
    return out;
}

std::string duration_text(uint64_t ms) {
    return ms % 1000 ? std::to_string(ms) + " ms" : std::to_string(ms / 1000) + " s";
}

}  // namespace

void HttpGet::Impl::configure(const std::string& url) {
    auto set = [this](CURLoption o, auto v) { curl_easy_setopt(easy, o, v); };
    set(CURLOPT_URL, url.c_str());
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_ERRORBUFFER, errbuf);
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    set(CURLOPT_FOLLOWLOCATION, 1L);
    set(CURLOPT_MAXREDIRS, long(opt.max_redirects));
    set(CURLOPT_TIMEOUT_MS, long(opt.timeout_ms));
    set(CURLOPT_MAXFILESIZE_LARGE, curl_off_t(opt.max_bytes));
    set(CURLOPT_ACCEPT_ENCODING, "");  // every encoding libcurl decodes; the cap counts decoded bytes
    set(CURLOPT_HTTP_VERSION, long(CURL_HTTP_VERSION_1_1));
    set(CURLOPT_USERAGENT, opt.user_agent.c_str());
    set(CURLOPT_PROXY, "");  // "" = no proxy, whatever the environment says
    set(CURLOPT_WRITEFUNCTION, &Impl::on_body);
    set(CURLOPT_WRITEDATA, this);
    set(CURLOPT_HEADERFUNCTION, &Impl::on_header);
    set(CURLOPT_HEADERDATA, this);
    if (!opt.bind_ip.empty()) {
        set(CURLOPT_INTERFACE, ("host!" + opt.bind_ip).c_str());
        set(CURLOPT_IPRESOLVE, opt.bind_ip.find(':') == std::string::npos ? CURL_IPRESOLVE_V4 : CURL_IPRESOLVE_V6);
    }
    if (!opt.ca_file.empty()) {
        // CAINFO replaces the default bundle file, so keep the system's
        // hashed directory as CAPATH: OpenSSL then trusts both.
        set(CURLOPT_CAINFO, opt.ca_file.c_str());
        set(CURLOPT_CAPATH, kSystemCaPath);
    }
}

std::string HttpGet::Impl::host() const {
    char* eff = nullptr;
    curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &eff);
    return eff ? url_part(eff, CURLUPART_HOST) : std::string();
}

std::string HttpGet::Impl::describe(CURLcode rc) const {
    std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        if (too_large || rc == CURLE_FILESIZE_EXCEEDED)
            return "response too large (over " + std::to_string(opt.max_bytes >> 10) + " KiB), stopped reading";
        break;
    case CURLE_OPERATION_TIMEDOUT: return "timed out after " + duration_text(opt.timeout_ms);
    case CURLE_TOO_MANY_REDIRECTS: return "too many redirects (more than " + std::to_string(opt.max_redirects) + ")";
    case CURLE_GOT_NOTHING: return "connection closed without a response";
    case CURLE_RECV_ERROR:
    case CURLE_OUT_OF_MEMORY:
        // libcurl 7.88's own cap on a response's headers (300 KiB).
        if (why.find("Too large response headers") != std::string::npos)
            return "response too large (headers over 300 KiB), stopped reading";
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        // libcurl calls a reply without an "HTTP/" status line HTTP/0.9.
        if (why.find("HTTP/0.9") != std::string::npos) return "malformed HTTP response (bad status line)";
        return "unsupported protocol (" + why + ")";
    case CURLE_WEIRD_SERVER_REPLY: return "malformed HTTP response (" + why + ")";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE: return "certificate verify failed (" + host() + ": " + why + ")";
    case CURLE_SSL_CONNECT_ERROR: return "TLS handshake with " + host() + " failed (" + why + ")";
    case CURLE_COULDNT_RESOLVE_HOST: return "cannot resolve " + host() + " (" + why + ")";
    case CURLE_COULDNT_CONNECT: return "cannot connect to " + host() + " (" + why + ")";
    case CURLE_PARTIAL_FILE: return "truncated HTTP response (" + why + ")";
    default: break;
    }
    return why;
}

Result<HttpResponse> HttpGet::Impl::result(CURLcode rc) {
    if (rc != CURLE_OK) return make_error(describe(rc));
    HttpResponse r;
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    r.status = int(code);
    r.body = std::move(body);
    return r;
}

HttpGet::HttpGet(uv_loop_t* loop, HttpOptions opt) : loop_(loop), opt_(std::move(opt)) {}

HttpGet::~HttpGet() = default;

void HttpGet::cancel() {
    impl_.reset();
    active_ = false;
}

void HttpGet::start(const std::string& url, Callback cb) {
    cancel();
    std::string scheme = url_part(url, CURLUPART_SCHEME);
    if (scheme != "http" && scheme != "https") return cb(make_error("bad tracker URL " + url.substr(0, 200)));
    impl_ = std::make_unique<Impl>();
    impl_->opt = opt_;
    if (!curl_) curl_ = CurlLoop::for_loop(loop_);
    impl_->curl = curl_;
    impl_->cb = std::move(cb);
    impl_->easy = curl_easy_init();
    if (!impl_->easy) {
        auto c = std::move(impl_->cb);
        cancel();
        return c(make_error("cannot start an HTTP request (libcurl)"));
    }
    impl_->configure(url);
    active_ = true;
    bool added = impl_->curl->add(impl_->easy, [this](CURLcode rc) {
        Result<HttpResponse> r = impl_->result(rc);
        auto c = std::move(impl_->cb);
        active_ = false;
        // The easy handle (about 7 KB with its buffers) goes now, not at the
        // next request: 100,000 idle announcers kept 700 MB of them.  It
        // has left the multi handle already; connections stay in its cache.
        curl_easy_cleanup(std::exchange(impl_->easy, nullptr));
        // The rest of the request's state (body, error text: about 500
        // bytes) goes too: an idle announcer keeps only this object.
        impl_.reset();
        c(std::move(r));  // may destroy *this: nothing after this line
    });
    if (!added) {
        auto c = std::move(impl_->cb);
        cancel();
        c(make_error("cannot start an HTTP request (libcurl)"));
    }
}

}  // namespace btl
