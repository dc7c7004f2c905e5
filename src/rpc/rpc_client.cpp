#include "btl/rpc/rpc_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>


namespace btl::rpc {

namespace {

constexpr const char* kSessionHeader = "x-transmission-session-id:";

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(i);
}

}  // namespace

Result<RpcEndpoint> parse_attach_target(const std::string& target, const std::string& default_socket) {
    RpcEndpoint ep;
    if (target.empty()) {
        ep.unix_socket = default_socket;
    } else if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0) {
        ep.url = target;
        size_t host = target.find("://") + 3;
        if (host >= target.size() || target[host] == '/')
            return make_error("--attach " + target + ": no host in the URL");
        if (target.find('/', host) == std::string::npos) ep.url += "/transmission/rpc";
        return ep;
    } else if (target.find('/') != std::string::npos) {
        ep.unix_socket = target;
    } else if (target.find(':') != std::string::npos) {
        ep.url = "http://" + target + "/transmission/rpc";
        return ep;
    } else {
        return make_error("--attach " + target +
                          ": expected a URL (http://HOST:PORT/transmission/rpc), HOST:PORT or a socket path");
    }
    ep.url = "http://localhost/transmission/rpc";
    return ep;
}

struct RpcClient::Call {
    RpcClient* owner = nullptr;
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    std::string body, answer, session_id;
    Callback cb;
    size_t taken = 0;
    bool retried = false, too_large = false;
    char errbuf[CURL_ERROR_SIZE] = {};

    ~Call() {
        curl_slist_free_all(headers);
        if (easy) curl_easy_cleanup(easy);
    }
    bool take(size_t n) {
        taken += n;
        too_large = taken > owner->max_bytes_;
        return !too_large;
    }
    static size_t on_body(char* p, size_t size, size_t n, void* ud) {
        auto* c = static_cast<Call*>(ud);
        if (!c->take(size * n)) return 0;
        c->answer.append(p, size * n);
        return size * n;
    }
    static size_t on_header(char* p, size_t size, size_t n, void* ud) {
        auto* c = static_cast<Call*>(ud);
        if (!c->take(size * n)) return 0;
        std::string line(p, size * n);
        std::string lower = line;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
        if (lower.rfind(kSessionHeader, 0) == 0) c->session_id = trim(line.substr(std::string(kSessionHeader).size()));
        return size * n;
    }
};

RpcClient::RpcClient(uv_loop_t* loop, RpcEndpoint ep, uint64_t timeout_ms, size_t max_bytes)
    : loop_(loop), ep_(std::move(ep)), timeout_ms_(timeout_ms), max_bytes_(max_bytes),
      curl_(CurlLoop::for_loop(loop)) {}

RpcClient::~RpcClient() {
    CurlLoop* curl = curl_.get();
    for (Call* c : calls_) {
        curl->remove(c->easy);
        delete c;
    }
}

void RpcClient::call(std::string body, Callback cb) {
    auto* c = new Call;
    c->owner = this;
    c->body = std::move(body);
    c->cb = std::move(cb);
    calls_.insert(c);
    send(c);
}

void RpcClient::send(Call* c) {
    if (c->easy) curl_easy_cleanup(c->easy);
    curl_slist_free_all(c->headers);
    c->headers = nullptr;
    c->answer.clear();
    c->taken = 0;
    c->errbuf[0] = 0;
    c->easy = curl_easy_init();
    auto set = [c](CURLoption o, auto v) { curl_easy_setopt(c->easy, o, v); };
    set(CURLOPT_URL, ep_.url.c_str());
    if (!ep_.unix_socket.empty()) set(CURLOPT_UNIX_SOCKET_PATH, ep_.unix_socket.c_str());
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_ERRORBUFFER, c->errbuf);
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_TIMEOUT_MS, long(timeout_ms_));
    set(CURLOPT_CONNECTTIMEOUT_MS, long(std::min<uint64_t>(timeout_ms_, 5000)));
    set(CURLOPT_PROXY, "");
    set(CURLOPT_POSTFIELDS, c->body.c_str());
    set(CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(c->body.size()));
    set(CURLOPT_ACCEPT_ENCODING, "");
    set(CURLOPT_WRITEFUNCTION, &Call::on_body);
    set(CURLOPT_WRITEDATA, c);
    set(CURLOPT_HEADERFUNCTION, &Call::on_header);
    set(CURLOPT_HEADERDATA, c);
    set(CURLOPT_USERAGENT, "btlaunchmany");
    if (!ep_.auth.empty()) {
        set(CURLOPT_HTTPAUTH, long(CURLAUTH_BASIC));
        set(CURLOPT_USERPWD, ep_.auth.c_str());
    }
    c->headers = curl_slist_append(c->headers, "Content-Type: application/json");
    if (!session_id_.empty())
        c->headers = curl_slist_append(c->headers, ("X-Transmission-Session-Id: " + session_id_).c_str());
    set(CURLOPT_HTTPHEADER, c->headers);
    CurlLoop* curl = curl_.get();
    if (!curl->add(c->easy, [this, c](CURLcode rc) { finish(c, int(rc)); })) {
        calls_.erase(c);
        Callback cb = std::move(c->cb);
        delete c;
        cb(make_error("libcurl refused the request"));
    }
}

void RpcClient::finish(Call* c, int curl_code) {
    auto rc = CURLcode(curl_code);
    long status = 0;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status == 409 && !c->session_id.empty() && !c->retried) {
        session_id_ = c->session_id;
        c->retried = true;
        return send(c);
    }
    Result<std::string> out = make_error("");
    if (c->too_large) out = make_error("answer too large (over " + std::to_string(max_bytes_ >> 20) + " MiB)");
    else if (rc != CURLE_OK) out = make_error(c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
    else if (status == 401) out = make_error("the engine refused the credentials (HTTP 401; see --rpc_auth)");
    else if (status != 200) out = make_error("HTTP " + std::to_string(status) + " from the engine");
    else out = std::move(c->answer);
    calls_.erase(c);
    Callback cb = std::move(c->cb);
    delete c;
    cb(std::move(out));
}

}  // namespace btl::rpc
