#include "btl/net/udp_tracker_mux.hpp"

#include <vector>

namespace btl {

UdpTrackerMux::UdpTrackerMux(const std::shared_ptr<UdpSocket>& sock) : sock_(sock) {
    if (!sock) return;
    sock->route(0x00, [this](const sockaddr* from, std::string_view d) { on_datagram(from, d); });
    sock->set_refused_handler([this](const sockaddr* to) { on_refused(to); });
}

UdpTrackerMux::~UdpTrackerMux() {
    if (auto s = sock_.lock()) {
        s->route(0x00, nullptr);
        s->set_refused_handler(nullptr);
    }
}

void UdpTrackerMux::on_refused(const sockaddr* to) {
    // Every waiting request hears it (an empty datagram); each checks the
    // address against its tracker's.  Copied first: handlers forget().
    std::vector<Handler> all;
    all.reserve(waiting_.size());
    for (const auto& [tid, h] : waiting_) all.push_back(h);
    for (const auto& h : all) h(to, std::string_view());
}

bool UdpTrackerMux::can_send(int family) const {
    auto s = sock_.lock();
    return s && s->has_family(family);
}

int UdpTrackerMux::send(const sockaddr* to, std::string_view data) {
    auto s = sock_.lock();
    return s ? s->send(to, data) : UV_EBADF;
}

bool UdpTrackerMux::expect(uint32_t tid, Handler h) { return waiting_.emplace(tid, std::move(h)).second; }

void UdpTrackerMux::on_datagram(const sockaddr* from, std::string_view d) {
    // action (4 bytes) then transaction id (4 bytes), big-endian
    if (d.size() < 8) {
        ++unmatched_;
        return;
    }
    uint32_t tid = 0;
    for (size_t i = 4; i < 8; ++i) tid = tid << 8 | uint8_t(d[i]);
    auto it = waiting_.find(tid);
    if (it != waiting_.end()) {
        Handler h = it->second;  // the handler may forget(tid) while it runs
        h(from, d);
        return;
    }
    // No request waits for this id: each one whose tracker sent it notes
    // why it ignored it (a confused tracker shows in the timeout message).
    ++unmatched_;
    std::vector<Handler> all;
    all.reserve(waiting_.size());
    for (const auto& [id, h] : waiting_) all.push_back(h);
    for (const auto& h : all) h(from, d);
}

}  // namespace btl
