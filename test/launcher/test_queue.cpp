#include <doctest/doctest.h>

#include "btl/launcher/queue.hpp"

using namespace btl;

namespace {
Sha1Digest h(int n) {
    Sha1Digest d{};
    d[0] = uint8_t(n);
    d[7] = 0x33;
    return d;
}
std::vector<int> order_of(const QueueOrder& q) {
    std::vector<int> out;
    for (const auto& [k, ih] : q.order()) out.push_back(ih[0]);
    return out;
}
using W = QueueItem::Want;
QueueItem item(W w, bool running, bool stalled = false) { return QueueItem{w, running, stalled}; }
}  // namespace

TEST_CASE("queue order: new torrents go last; saved keys put restarted ones back in their place") {
    QueueOrder q;
    CHECK(q.add(h(1), -1) == 0);
    CHECK(q.add(h(2), -1) == 1);
    CHECK(q.add(h(3), -1) == 2);
    CHECK(order_of(q) == std::vector<int>{1, 2, 3});
    CHECK(q.position(h(3)) == 2);
    CHECK(q.position(h(9)) == -1);
    QueueOrder r;  // a restart loads them in another order with their saved keys
    r.add(h(3), 2);
    r.add(h(1), 0);
    r.add(h(2), 1);
    CHECK(order_of(r) == std::vector<int>{1, 2, 3});
    CHECK(r.add(h(4), 1) == 3);  // a taken key (a copied resume file): last
    CHECK(r.add(h(4), 0) == 3);  // already there: unchanged
    r.remove(h(2));
    CHECK(order_of(r) == std::vector<int>{1, 3, 4});
    CHECK(r.position(h(4)) == 2 - 0);
}

TEST_CASE("queue order: moves change only the keys they touch") {
    QueueOrder q;
    for (int i = 1; i <= 5; ++i) q.add(h(i), -1);
    auto c = q.move(h(4), QueueMove::top);
    CHECK(c.size() == 1);
    CHECK(order_of(q) == std::vector<int>{4, 1, 2, 3, 5});
    c = q.move(h(2), QueueMove::up);
    CHECK(c.size() == 2);  // a swap with its neighbour
    CHECK(order_of(q) == std::vector<int>{4, 2, 1, 3, 5});
    q.move(h(4), QueueMove::down);
    CHECK(order_of(q) == std::vector<int>{2, 4, 1, 3, 5});
    q.move(h(2), QueueMove::bottom);
    CHECK(order_of(q) == std::vector<int>{4, 1, 3, 5, 2});
    CHECK(q.move(h(4), QueueMove::up).empty());      // already first
    CHECK(q.move(h(4), QueueMove::top).empty());
    CHECK(q.move(h(2), QueueMove::down).empty());    // already last
    CHECK(q.move(h(2), QueueMove::bottom).empty());
    CHECK(q.move(h(9), QueueMove::top).empty());     // not queued
    CHECK(q.position(h(2)) == 4);
    CHECK(q.position(h(4)) == 0);
    // The keys the moves returned are the keys the order holds.
    for (const auto& [ih, key] : q.move(h(3), QueueMove::top)) CHECK(q.order().at(key) == ih);
}

TEST_CASE("queue decide: the first N downloads run in queue order, the rest wait") {
    std::vector<QueueItem> items = {item(W::download, false), item(W::download, false), item(W::download, true),
                                    item(W::download, true), item(W::seed, true)};
    auto run = queue_decide(items, QueueLimits{2, 0});
    CHECK(run == std::vector<bool>{true, true, false, false, true});  // seeds: no limit
    run = queue_decide(items, QueueLimits{0, 0});
    CHECK(run == std::vector<bool>{true, true, true, true, true});
}

TEST_CASE("queue decide: a stalled download keeps running but frees its slot") {
    std::vector<QueueItem> items = {item(W::download, true, true), item(W::download, true), item(W::download, false)};
    auto run = queue_decide(items, QueueLimits{1, 0});
    CHECK(run == std::vector<bool>{true, true, false});
    items[1].stalled = true;
    run = queue_decide(items, QueueLimits{1, 0});
    CHECK(run == std::vector<bool>{true, true, true});
    // A torrent held in the queue is never stalled: it counts when it starts.
    items = {item(W::download, false, true), item(W::download, false)};
    CHECK(queue_decide(items, QueueLimits{1, 0}) == std::vector<bool>{true, false});
}

TEST_CASE("queue decide: seeds have their own limit; paused and finished torrents take no slot") {
    std::vector<QueueItem> items = {item(W::nothing, false), item(W::seed, true), item(W::seed, true),
                                    item(W::download, true), item(W::seed, false)};
    auto run = queue_decide(items, QueueLimits{1, 1});
    CHECK(run == std::vector<bool>{false, true, false, true, false});
}

TEST_CASE("queue order: the version moves on every change, never on reads") {
    QueueOrder q;
    Sha1Digest a{}, b{};
    a[0] = 1;
    b[0] = 2;
    uint64_t v = q.version();
    q.add(a, -1);
    CHECK(q.version() != v);
    v = q.version();
    q.add(b, -1);
    CHECK(q.version() != v);
    v = q.version();
    CHECK(q.position(b) == 1);
    CHECK(q.contains(a));
    CHECK(q.version() == v);  // reads
    q.add(a, 7);              // already there: no change
    CHECK(q.version() == v);
    q.move(b, QueueMove::top);
    CHECK(q.version() != v);
    v = q.version();
    q.move(b, QueueMove::top);  // already first: nothing moved
    CHECK(q.version() == v);
    q.remove(a);
    CHECK(q.version() != v);
    v = q.version();
    q.remove(a);  // absent
    CHECK(q.version() == v);
}
