#include "btl/net/utp_manager.hpp"

#include <cstring>
#include <vector>

#include "btl/net/peer_connection.hpp"

namespace btl {

std::string utp_addr_key(const sockaddr* sa) {
    std::string ip;
    uint16_t port = 0;
    if (!sockaddr_to_ip(sa, ip, port)) return {};
    return ip + ":" + std::to_string(port);
}

namespace {

socklen_t addr_len(const sockaddr* sa) {
    return sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

}  // namespace

UtpManager::UtpManager(UtpManagerConfig cfg, UtpSocket::Clock clock, SendTo send_to, Random rng)
    : cfg_(cfg), clock_(std::move(clock)), send_to_(std::move(send_to)), rng_(std::move(rng)) {}

UtpManager::~UtpManager() {
    for (auto& kv : sockets_) {
        kv.second.sock->abort("shutting down");
        kv.second.sock->detach_sender();
    }
}

UtpManager::Entry* UtpManager::find(const std::string& from, uint16_t id) {
    auto it = sockets_.find(Key(from, id));
    return it == sockets_.end() ? nullptr : &it->second;
}

// A RESET names our receive id or our send id (which is ours ± 1).
UtpManager::Entry* UtpManager::find_for_reset(const std::string& from, uint16_t id) {
    if (Entry* e = find(from, id)) return e;
    for (uint16_t cand : {uint16_t(id + 1), uint16_t(id - 1)}) {
        Entry* e = find(from, cand);
        if (e && e->sock->send_id() == id) return e;
    }
    return nullptr;
}

std::shared_ptr<UtpSocket> UtpManager::make_socket(const sockaddr* addr, Entry& e) {
    std::memcpy(&e.addr, addr, addr_len(addr));
    Entry* ep = &e;  // std::map nodes do not move
    return std::make_shared<UtpSocket>(cfg_.socket, clock_, [this, ep](std::string_view d) {
        send_to_(reinterpret_cast<const sockaddr*>(&ep->addr), d);
    });
}

void UtpManager::incoming(const sockaddr* from, std::string_view datagram) {
    auto parsed = parse_utp_packet(datagram);
    if (!parsed.ok()) {
        ++dropped_;
        return;
    }
    const UtpPacket& p = *parsed;
    const std::string key = utp_addr_key(from);
    if (key.empty()) return;
    if (p.h.type == UtpType::Syn) return on_syn(from, key, p);
    Entry* e = p.h.type == UtpType::Reset ? find_for_reset(key, p.h.conn_id) : find(key, p.h.conn_id);
    if (!e) {
        ++dropped_;
        if (p.h.type != UtpType::Reset) send_reset(from, p);
        return;
    }
    std::shared_ptr<UtpSocket> keep = e->sock;
    keep->incoming(p);
    if (e->half_open && keep->state() == UtpSocket::State::Connected) confirm(*e);
}

void UtpManager::confirm(Entry& e) {
    e.half_open = false;
    --half_open_;
    if (!accept_ || !accept_(e.sock, reinterpret_cast<const sockaddr*>(&e.addr))) e.sock->abort("refused");
}

void UtpManager::on_syn(const sockaddr* from, const std::string& key, const UtpPacket& p) {
    const uint16_t id = uint16_t(p.h.conn_id + 1);
    if (Entry* e = find(key, id)) {
        e->sock->incoming(p);  // a repeated SYN
        return;
    }
    if (sockets_.size() >= cfg_.max_connections || half_open_ >= cfg_.max_half_open) {
        ++refused_syns_;
        return;
    }
    Entry& e = sockets_[Key(key, id)];
    e.sock = make_socket(from, e);
    e.half_open = true;
    ++half_open_;
    e.sock->accept(p, uint16_t(rng_()));
}

std::shared_ptr<UtpSocket> UtpManager::dial(const sockaddr* to) {
    const std::string key = utp_addr_key(to);
    if (key.empty() || sockets_.size() >= cfg_.max_connections) return nullptr;
    uint16_t id = uint16_t(rng_());
    // Both our ids (id, id + 1) must be free for this address.
    for (int tries = 0; find(key, id) || find(key, uint16_t(id + 1)) || find(key, uint16_t(id - 1)); ++tries) {
        if (tries == 64) return nullptr;
        id = uint16_t(rng_());
    }
    Entry& e = sockets_[Key(key, id)];
    e.sock = make_socket(to, e);
    std::shared_ptr<UtpSocket> s = e.sock;
    s->connect(id, 1);
    return s;
}

void UtpManager::send_reset(const sockaddr* to, const UtpPacket& p) {
    const uint64_t t = clock_();
    if (t - reset_window_start_ >= 1000000) {
        reset_window_start_ = t;
        resets_in_window_ = 0;
    }
    if (resets_in_window_++ >= cfg_.resets_per_second) return;
    UtpHeader h;
    h.type = UtpType::Reset;
    h.conn_id = p.h.conn_id;
    h.ts_us = uint32_t(t);
    h.seq = uint16_t(rng_());
    h.ack = p.h.seq;
    std::string d;
    encode_utp_packet(h, {}, {}, d);
    send_to_(to, d);
}

void UtpManager::tick() {
    std::vector<std::shared_ptr<UtpSocket>> all;
    all.reserve(sockets_.size());
    for (auto& kv : sockets_) all.push_back(kv.second.sock);
    for (auto& s : all) s->tick();
    for (auto it = sockets_.begin(); it != sockets_.end();) {
        if (it->second.sock->state() != UtpSocket::State::Closed) {
            ++it;
            continue;
        }
        if (it->second.half_open) --half_open_;
        it->second.sock->detach_sender();
        it = sockets_.erase(it);
    }
}

void UtpManager::flush() {
    for (auto& kv : sockets_) {
        std::shared_ptr<UtpSocket> keep = kv.second.sock;
        keep->flush();
    }
}

}  // namespace btl
