#include "btl/net/http_client.hpp"

#include "btl/net/resolve.hpp"

#include <charconv>
#include <cstring>

namespace btl {

bool split_http_url(const std::string& url, std::string& host, uint16_t& port, std::string& path) {
    const std::string scheme = "http://";
    if (url.compare(0, scheme.size(), scheme) != 0) return false;
    size_t p = scheme.size();
    size_t slash = url.find('/', p);
    std::string hostport = url.substr(p, slash == std::string::npos ? std::string::npos : slash - p);
    path = slash == std::string::npos ? "/" : url.substr(slash);
    port = 80;
    if (hostport.empty()) return false;
    if (hostport[0] == '[') {
        size_t close = hostport.find(']');
        if (close == std::string::npos) return false;
        host = hostport.substr(1, close - 1);
        if (close + 1 < hostport.size()) {
            if (hostport[close + 1] != ':') return false;
            hostport = hostport.substr(close + 2);
        } else {
            hostport.clear();
        }
    } else {
        size_t colon = hostport.rfind(':');
        host = hostport.substr(0, colon);
        hostport = colon == std::string::npos ? "" : hostport.substr(colon + 1);
    }
    if (!hostport.empty()) {
        unsigned v = 0;
        auto [ptr, ec] = std::from_chars(hostport.data(), hostport.data() + hostport.size(), v);
        if (ec != std::errc() || ptr != hostport.data() + hostport.size() || v == 0 || v > 65535) return false;
        port = static_cast<uint16_t>(v);
    }
    return !host.empty();
}

// The in-flight state.  Shared with libuv requests so a request callback that
// fires after the HttpGet is gone finds `dead` set and only frees itself.
struct HttpGet::Impl : std::enable_shared_from_this<HttpGet::Impl> {
    uv_loop_t* loop;
    HttpOptions opt;
    Callback cb;
    bool dead = false;
    int redirects = 0;
    std::string host, path, request;
    uint16_t port = 80;
    std::string in;
    static constexpr uint64_t kUnknown = UINT64_MAX;
    size_t scanned = 0, head_end = std::string::npos;  // complete()'s progress through `in`
    uint64_t content_length = kUnknown;
    UvHandle<uv_tcp_t> tcp;
    UvHandle<uv_timer_t> timer;

    void finish(Result<HttpResponse> r) {
        if (dead) return;
        auto keep = shared_from_this();  // the callback may destroy our owner
        dead = true;
        tcp.reset();
        timer.reset();
        auto c = std::move(cb);
        if (c) c(std::move(r));
    }
    void fail(const std::string& why) { finish(make_error(why)); }

    void begin(const std::string& url) {
        in.clear();
        scanned = 0;
        head_end = std::string::npos;
        content_length = kUnknown;
        tcp.reset();
        if (!split_http_url(url, host, port, path))
            return fail((redirects ? "bad redirect URL " : "bad tracker URL ") + url.substr(0, 200));
        request = "GET " + path + " HTTP/1.0\r\nHost: " + host + (port != 80 ? ":" + std::to_string(port) : "") +
                  "\r\nUser-Agent: " + opt.user_agent + "\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n";
        resolve_address(loop, host, port, SOCK_STREAM, opt.bind_ip,
                        [self = shared_from_this()](Result<sockaddr_storage> r) {
                            if (self->dead) return;
                            if (!r.ok()) return self->fail(r.error().message);
                            self->connect(reinterpret_cast<const sockaddr*>(&*r));
                        });
    }

    void connect(const sockaddr* addr) {
        int err = 0;
        tcp = UvHandle<uv_tcp_t>::create([&](uv_tcp_t* h) { return uv_tcp_init(loop, h); }, &err);
        if (!tcp) return fail(std::string("socket: ") + uv_strerror(err));
        tcp->data = this;
        if (!opt.bind_ip.empty()) {
            sockaddr_storage local{};
            if (uv_ip4_addr(opt.bind_ip.c_str(), 0, reinterpret_cast<sockaddr_in*>(&local)) == 0 ||
                uv_ip6_addr(opt.bind_ip.c_str(), 0, reinterpret_cast<sockaddr_in6*>(&local)) == 0) {
                if (local.ss_family == addr->sa_family) uv_tcp_bind(tcp.get(), reinterpret_cast<sockaddr*>(&local), 0);
            }
        }
        struct Conn {
            uv_connect_t req;
            std::shared_ptr<Impl> self;
        };
        auto* c = new Conn{};
        c->self = shared_from_this();
        int rc = uv_tcp_connect(&c->req, tcp.get(), addr, [](uv_connect_t* req, int status) {
            auto* c = reinterpret_cast<Conn*>(req);
            auto self = std::move(c->self);
            delete c;
            if (self->dead || status == UV_ECANCELED) return;
            if (status != 0) return self->fail("cannot connect to " + self->host + ":" + std::to_string(self->port) + ": " + uv_strerror(status));
            self->send();
        });
        if (rc != 0) {
            delete c;
            fail("cannot connect to " + host + ": " + uv_strerror(rc));
        }
    }

    void send() {
        struct W {
            uv_write_t req;
            std::shared_ptr<Impl> self;
        };
        auto* w = new W{};
        w->self = shared_from_this();
        uv_buf_t b = uv_buf_init(request.data(), static_cast<unsigned>(request.size()));
        int rc = uv_write(&w->req, tcp.stream(), &b, 1, [](uv_write_t* req, int status) {
            auto* w = reinterpret_cast<W*>(req);
            auto self = std::move(w->self);
            delete w;
            if (self->dead || status == UV_ECANCELED) return;
            if (status != 0) self->fail(std::string("sending request: ") + uv_strerror(status));
        });
        if (rc != 0) {
            delete w;
            return fail(std::string("sending request: ") + uv_strerror(rc));
        }
        uv_read_start(
            tcp.stream(),
            [](uv_handle_t* h, size_t, uv_buf_t* buf) {
                auto* self = static_cast<Impl*>(h->data);
                static thread_local char scratch[65536];
                (void)self;
                *buf = uv_buf_init(scratch, sizeof scratch);
            },
            [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
                auto* self = static_cast<Impl*>(s->data);
                if (!self) return;
                if (n > 0) {
                    if (self->in.size() + size_t(n) > self->opt.max_bytes)
                        return self->fail("response too large (over " + std::to_string(self->opt.max_bytes >> 10) +
                                          " KiB), stopped reading");
                    self->in.append(buf->base, size_t(n));
                    // A server that keeps the connection open after a
                    // complete response must not cost us the timeout.
                    if (self->complete()) self->parse();
                } else if (n == UV_EOF) {
                    self->parse();
                } else if (n < 0) {
                    self->fail(std::string("reading response: ") + uv_strerror(int(n)));
                }
            });
    }

    // True once the headers and Content-Length bytes of body have arrived.
    // Each byte is scanned once: a server trickling a 4 MiB header in tiny
    // segments must not make this quadratic.
    bool complete() {
        if (head_end == std::string::npos) {
            size_t from = scanned < 3 ? 0 : scanned - 3;
            scanned = in.size();
            head_end = in.find("\r\n\r\n", from);
            if (head_end == std::string::npos) return false;
            std::string head = in.substr(0, head_end);
            for (auto& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            size_t cl = head.find("\ncontent-length:");
            if (cl != std::string::npos && head.find("\ntransfer-encoding:") == std::string::npos) {
                const char* p = head.c_str() + cl + 16;
                while (*p == ' ' || *p == '\t') ++p;
                uint64_t n = 0;
                auto [end, ec] = std::from_chars(p, head.c_str() + head.size(), n);
                if (ec == std::errc() && end != p) content_length = n;
            }
        }
        return content_length != kUnknown && in.size() - (head_end + 4) >= content_length;
    }

    void parse() {
        auto keep = shared_from_this();
        if (in.empty()) return fail("connection closed without a response");
        size_t hdr_end = in.find("\r\n\r\n");
        size_t sep = 4;
        if (hdr_end == std::string::npos) {
            hdr_end = in.find("\n\n");
            sep = 2;
        }
        if (hdr_end == std::string::npos) return fail("malformed HTTP response (no end of headers)");
        std::string head = in.substr(0, hdr_end);
        HttpResponse r;
        if (head.compare(0, 5, "HTTP/") != 0) return fail("malformed HTTP response (bad status line)");
        size_t sp = head.find(' ');
        if (sp == std::string::npos) return fail("malformed HTTP response (bad status line)");
        r.status = std::atoi(head.c_str() + sp + 1);
        std::string location;
        int64_t content_length = -1;
        bool chunked = false;
        size_t pos = head.find('\n');
        while (pos != std::string::npos && pos < head.size()) {
            size_t next = head.find('\n', pos + 1);
            std::string line = head.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            size_t colon = line.find(':');
            if (colon != std::string::npos) {
                std::string name = line.substr(0, colon);
                for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                std::string value = line.substr(colon + 1);
                while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
                if (name == "location") location = value;
                if (name == "content-length") content_length = std::atoll(value.c_str());
                if (name == "transfer-encoding" && value.find("chunked") != std::string::npos) chunked = true;
            }
            pos = next;
        }
        std::string body = in.substr(hdr_end + sep);
        if (chunked) {
            std::string out;
            size_t p = 0;
            for (;;) {
                size_t eol = body.find("\r\n", p);
                if (eol == std::string::npos) return fail("malformed chunked response");
                long long n = std::strtoll(body.c_str() + p, nullptr, 16);
                if (n < 0 || size_t(n) > body.size()) return fail("malformed chunked response");
                if (n == 0) break;
                if (eol + 2 + size_t(n) > body.size()) return fail("truncated chunked response");
                out.append(body, eol + 2, size_t(n));
                p = eol + 2 + size_t(n) + 2;
            }
            body = std::move(out);
        } else if (content_length >= 0 && size_t(content_length) < body.size()) {
            body.resize(size_t(content_length));
        } else if (content_length >= 0 && size_t(content_length) > body.size()) {
            return fail("truncated HTTP response (" + std::to_string(body.size()) + " of " + std::to_string(content_length) + " bytes)");
        }
        if (r.status >= 300 && r.status < 400 && !location.empty()) {
            if (++redirects > opt.max_redirects)
                return fail("too many redirects (more than " + std::to_string(opt.max_redirects) + ")");
            if (location.size() > 2000) return fail("redirect to a URL of " + std::to_string(location.size()) + " bytes");
            for (auto& ch : location)
                if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F) ch = '?';
            if (location[0] == '/') location = "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port) + location;
            return begin(location);
        }
        r.body = std::move(body);
        finish(std::move(r));
    }
};

HttpGet::HttpGet(uv_loop_t* loop, HttpOptions opt) : loop_(loop), opt_(std::move(opt)) {}

HttpGet::~HttpGet() {
    if (impl_) {
        impl_->dead = true;
        impl_->cb = nullptr;
        impl_->tcp.reset();
        impl_->timer.reset();
    }
}

void HttpGet::start(const std::string& url, Callback cb) {
    if (impl_) {
        impl_->dead = true;
        impl_->cb = nullptr;
        impl_->tcp.reset();
        impl_->timer.reset();
    }
    impl_ = std::make_shared<Impl>();
    impl_->loop = loop_;
    impl_->opt = opt_;
    active_ = true;
    impl_->cb = [this, cb = std::move(cb)](Result<HttpResponse> r) {
        active_ = false;
        cb(std::move(r));
    };
    int err = 0;
    impl_->timer = UvHandle<uv_timer_t>::create([&](uv_timer_t* t) { return uv_timer_init(loop_, t); }, &err);
    if (impl_->timer) {
        impl_->timer->data = impl_.get();
        uv_timer_start(impl_->timer.get(), [](uv_timer_t* t) {
            auto* self = static_cast<Impl*>(t->data);
            if (!self) return;
            uint64_t ms = self->opt.timeout_ms;
            self->fail("timed out after " + (ms % 1000 ? std::to_string(ms) + " ms" : std::to_string(ms / 1000) + " s"));
        }, opt_.timeout_ms, 0);
    }
    auto keep = impl_;
    keep->begin(url);
}

}  // namespace btl
