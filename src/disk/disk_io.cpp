#include "btl/disk/disk_io.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <list>
#include <map>

#include "btl/base/async_job.hpp"
#include "btl/base/uv_util.hpp"

namespace btl {

namespace {
// "PATH" or "PATH (and N more files)": the files a piece lies in.
std::string files_of(const Storage& st, uint32_t piece) {
    const FileLayout& lay = st.layout();
    std::vector<FileSlice> slices;
    lay.map(lay.piece_offset(piece), lay.piece_size(piece), slices);
    std::vector<uint32_t> files;
    for (const auto& sl : slices)
        if (!lay.is_pad(sl.file_index)) files.push_back(sl.file_index);
    if (files.empty()) return st.root();
    std::string out = st.file_path(files[0]);
    if (files.size() > 1) out += " (and " + std::to_string(files.size() - 1) + " more files)";
    return out;
}
}  // namespace

struct CheckHandle::State {
    std::weak_ptr<DiskIo::Impl> impl;
    std::shared_ptr<Storage> st;
    std::string hashes;
    std::function<void(uint32_t, uint32_t)> progress;
    std::function<void(Result<DiskIo::PieceMask>)> done;
    std::atomic<bool> cancel_flag{false};  // read by pool threads to skip work
    bool cancelled = false;
    bool finished = false;
    DiskIo::PieceMask mask;
    uint32_t total = 0;
    uint32_t next_piece = 0;
    uint32_t pieces_done = 0;
    unsigned in_flight = 0;
    std::vector<std::unique_ptr<std::vector<uint8_t>>> spare_buffers;  // one slice each, reused
};

struct DiskIo::Impl : std::enable_shared_from_this<DiskIo::Impl> {
    uv_loop_t* loop = nullptr;
    DiskIoOptions opt;
    bool alive = true;
    size_t pending = 0;
    DiskIoStats stats;

    // Deferred callbacks, so no callback ever runs inside the call that
    // caused it (cache hits, argument errors).
    UvHandle<uv_idle_t> idle;
    std::vector<std::function<void()>> posted;

    // Read cache: whole pieces, LRU, bounded by opt.cache_bytes.  Entries
    // hold the Storage so its address cannot be reused while it is a key.
    using Key = std::pair<const Storage*, uint32_t>;
    struct CacheEntry {
        std::shared_ptr<Storage> st;
        BufferPtr data;
        std::list<Key>::iterator lru;
    };
    std::map<Key, CacheEntry> cache;
    std::list<Key> lru;  // front = most recent
    struct Waiter {
        size_t pos;
        uint32_t len;
        std::function<void(Result<BufferPtr>)> cb;
    };
    std::map<Key, std::vector<Waiter>> inflight;

    std::deque<std::shared_ptr<CheckHandle::State>> check_queue;
    std::shared_ptr<CheckHandle::State> active_check;

    void post(std::function<void()> fn) {
        posted.push_back(std::move(fn));
        if (idle && !uv_is_active(idle.handle())) {
            uv_idle_start(idle.get(), [](uv_idle_t* h) {
                auto* self = static_cast<Impl*>(h->data);
                if (!self) return;
                uv_idle_stop(h);
                auto fns = std::move(self->posted);
                self->posted.clear();
                auto keep = self->shared_from_this();
                for (auto& f : fns)
                    if (self->alive) f();
            });
        }
    }

    // One thread-pool job.  `after` runs on the loop only while the DiskIo
    // lives, with the job's Status: an error when libuv cancelled or refused
    // the job, in which case its work did not run (or not to the end), and
    // `after` must not trust what the work would have produced.  A refusal
    // is answered from the next loop turn, never from inside submit().
    std::unique_ptr<JobOwner> jobs = std::make_unique<JobOwner>();  // reset by ~DiskIo
    void submit(std::function<void()> work, std::function<void(Status)> after) {
        auto cb = std::make_shared<std::function<void(Status)>>(std::move(after));
        Status queued = queue_job(loop, jobs->token(), std::move(work), [cb](Status st) { (*cb)(std::move(st)); });
        if (!queued.ok()) post([cb, err = queued.error()] { (*cb)(err); });
    }

    void cache_drop(std::map<Key, CacheEntry>::iterator it) {
        stats.cache_bytes -= it->second.data->size();
        lru.erase(it->second.lru);
        cache.erase(it);
    }
    void cache_insert(const std::shared_ptr<Storage>& st, uint32_t piece, BufferPtr data) {
        Key k{st.get(), piece};
        auto it = cache.find(k);
        if (it != cache.end()) cache_drop(it);
        lru.push_front(k);
        stats.cache_bytes += data->size();
        cache.emplace(k, CacheEntry{st, std::move(data), lru.begin()});
        while (stats.cache_bytes > opt.cache_bytes && !lru.empty()) cache_drop(cache.find(lru.back()));
    }

    static BufferPtr slice(const std::vector<uint8_t>& piece, size_t pos, uint32_t len) {
        return std::make_shared<std::vector<uint8_t>>(piece.begin() + pos, piece.begin() + pos + len);
    }

    void start_next_check();
    void schedule_check_jobs(const std::shared_ptr<CheckHandle::State>& s);
    void finish_check(const std::shared_ptr<CheckHandle::State>& s);
};

DiskIo::DiskIo(uv_loop_t* loop, DiskIoOptions opt) : impl_(std::make_shared<Impl>()) {
    impl_->loop = loop;
    impl_->opt = opt;
    if (impl_->opt.check_jobs == 0) impl_->opt.check_jobs = 1;
    impl_->idle = UvHandle<uv_idle_t>::create([&](uv_idle_t* h) { return uv_idle_init(loop, h); });
    if (impl_->idle) impl_->idle->data = impl_.get();
}

DiskIo::~DiskIo() {
    impl_->alive = false;
    impl_->jobs.reset();
    for (auto& s : impl_->check_queue) s->cancel_flag = true;
    if (impl_->active_check) impl_->active_check->cancel_flag = true;
    impl_->check_queue.clear();
    impl_->active_check.reset();
    impl_->posted.clear();
    impl_->idle.reset();
    impl_->cache.clear();
    impl_->lru.clear();
    impl_->inflight.clear();
}

void DiskIo::hash_and_write(std::shared_ptr<Storage> st, uint32_t piece, BufferPtr data,
                            Sha1Digest expected,
                            std::function<void(bool hash_ok, Status write_status)> cb) {
    auto& im = *impl_;
    auto it = im.cache.find({st.get(), piece});
    if (it != im.cache.end()) im.cache_drop(it);
    ++im.pending;
    struct Out {
        bool hash_ok = false;
        Status status = Ok{};
    };
    auto out = std::make_shared<Out>();
    im.submit(
        [st, piece, data, expected, out] {
            out->hash_ok = sha1(data->data(), data->size()) == expected;
            if (out->hash_ok) out->status = st->write_piece(piece, data->data(), data->size());
        },
        [imp = impl_.get(), data, out, cb = std::move(cb)](Status job) {
            --imp->pending;
            if (!job.ok()) {
                // Never hashed: report a write failure, not a hash failure
                // (which would blame the peers that sent the piece).
                out->hash_ok = true;
                out->status = std::move(job);
            }
            if (out->hash_ok && out->status.ok()) imp->stats.bytes_written += data->size();
            if (cb) cb(out->hash_ok, std::move(out->status));
        });
}

static BlockIo storage_block_io(const std::shared_ptr<Storage>& st) {
    BlockIo io;
    Storage* s = st.get();
    io.write = [s](int64_t off, const uint8_t* data, size_t len) { return s->write(off, data, len); };
    io.read = [s](int64_t off, uint8_t* buf, size_t len) { return s->read(off, buf, len); };
    io.write_gather = [s](int64_t off, const iovec* parts, size_t n) { return s->write_gather(off, parts, n); };
    return io;
}

void DiskIo::write_blocks(std::shared_ptr<Storage> st, std::shared_ptr<BlockAssembler> as,
                          std::vector<BlockWrite> blocks,
                          std::function<void(Result<std::vector<PieceVerdict>>)> cb) {
    auto& im = *impl_;
    uint32_t last = UINT32_MAX;
    size_t bytes = 0;
    for (const auto& b : blocks) {
        bytes += b.data.size();
        if (b.piece == last) continue;
        last = b.piece;
        auto it = im.cache.find({st.get(), b.piece});
        if (it != im.cache.end()) im.cache_drop(it);
    }
    ++im.pending;
    const uint64_t epoch = as->epoch();
    auto in = std::make_shared<std::vector<BlockWrite>>(std::move(blocks));
    auto out = std::make_shared<std::vector<PieceVerdict>>();
    im.submit([st, as, in, out, epoch] { *out = as->write(*in, storage_block_io(st), epoch); },
              [imp = impl_.get(), as, in, out, epoch, bytes, cb = std::move(cb)](Status job) {
                  --imp->pending;
                  if (!job.ok()) return cb(job.error());
                  imp->stats.bytes_written += bytes;
                  if (as->epoch() != epoch) out->clear();
                  cb(std::move(*out));
              });
}

void DiskIo::block_digests(std::shared_ptr<Storage> st, uint32_t piece, uint32_t block_size,
                           std::function<void(Result<std::vector<Sha1Digest>>)> cb) {
    auto& im = *impl_;
    ++im.pending;
    auto out = std::make_shared<Result<std::vector<Sha1Digest>>>(std::vector<Sha1Digest>{});
    im.submit(
        [st, piece, block_size, out] {
            const FileLayout& lay = st->layout();
            const int64_t size = lay.piece_size(piece), base = lay.piece_offset(piece);
            std::vector<uint8_t> buf(block_size);
            std::vector<Sha1Digest> d;
            for (int64_t off = 0; off < size; off += block_size) {
                size_t len = size_t(std::min<int64_t>(block_size, size - off));
                Status s = st->read(base + off, buf.data(), len);
                if (!s.ok()) {
                    *out = s.error();
                    return;
                }
                d.push_back(sha1(buf.data(), len));
            }
            *out = std::move(d);
        },
        [imp = impl_.get(), out, cb = std::move(cb)](Status job) {
            --imp->pending;
            if (!job.ok()) return cb(job.error());
            cb(std::move(*out));
        });
}

void DiskIo::read(std::shared_ptr<Storage> st, int64_t torrent_offset, uint32_t len,
                  std::function<void(Result<BufferPtr>)> cb) {
    read_impl(std::move(st), torrent_offset, len, nullptr, std::move(cb));
}

void DiskIo::read_verified(std::shared_ptr<Storage> st, int64_t torrent_offset, uint32_t len,
                           const Sha1Digest& expected, std::function<void(Result<BufferPtr>)> cb) {
    read_impl(std::move(st), torrent_offset, len, &expected, std::move(cb));
}

void DiskIo::read_impl(std::shared_ptr<Storage> st, int64_t torrent_offset, uint32_t len,
                       const Sha1Digest* expected_hash, std::function<void(Result<BufferPtr>)> cb) {
    auto& im = *impl_;
    const FileLayout& lay = st->layout();
    ++im.pending;
    auto finish = [imp = impl_.get(), cb](Result<BufferPtr> r) {
        --imp->pending;
        if (cb) cb(std::move(r));
    };
    int64_t pl = lay.piece_length();
    if (len == 0 || torrent_offset < 0 || pl <= 0 || torrent_offset >= lay.total()) {
        im.post([finish] { finish(make_error("read outside the torrent")); });
        return;
    }
    uint32_t piece = uint32_t(torrent_offset / pl);
    int64_t piece_size = lay.piece_size(piece);
    size_t pos = size_t(torrent_offset - lay.piece_offset(piece));
    if (int64_t(pos) + len > piece_size) {
        im.post([finish] { finish(make_error("read crosses a piece boundary")); });
        return;
    }

    if (size_t(piece_size) > im.opt.max_cached_piece || size_t(piece_size) > im.opt.cache_bytes) {
        // Too big to cache: read exactly what was asked.
        auto buf = std::make_shared<std::vector<uint8_t>>(len);
        auto status = std::make_shared<Status>(Ok{});
        im.submit([st, torrent_offset, buf, status] { *status = st->read(torrent_offset, buf->data(), buf->size()); },
                  [imp = impl_.get(), buf, status, finish](Status job) {
                      ++imp->stats.cache_misses;
                      if (!job.ok()) return finish(job.error());
                      if (!status->ok()) return finish(status->error());
                      imp->stats.bytes_read += buf->size();
                      finish(buf);
                  });
        return;
    }

    Impl::Key key{st.get(), piece};
    auto hit = im.cache.find(key);
    if (hit != im.cache.end()) {
        ++im.stats.cache_hits;
        im.lru.splice(im.lru.begin(), im.lru, hit->second.lru);
        BufferPtr piece_data = hit->second.data;
        im.post([finish, piece_data, pos, len] { finish(Impl::slice(*piece_data, pos, len)); });
        return;
    }
    auto inf = im.inflight.find(key);
    if (inf != im.inflight.end()) {
        // The whole piece is already on its way; a peer asking for the next
        // block should not cause a second read.
        ++im.stats.cache_hits;
        inf->second.push_back({pos, len, finish});
        return;
    }
    ++im.stats.cache_misses;
    im.inflight[key].push_back({pos, len, finish});
    auto buf = std::make_shared<std::vector<uint8_t>>(size_t(piece_size));
    auto status = std::make_shared<Status>(Ok{});
    int64_t piece_off = lay.piece_offset(piece);
    bool verify = expected_hash != nullptr;
    Sha1Digest expected = verify ? *expected_hash : Sha1Digest{};
    im.submit([st, piece, piece_off, buf, status, verify, expected] {
                  *status = st->read(piece_off, buf->data(), buf->size());
                  // Whatever changed the file since it was checked (an edit,
                  // a truncation and regrowth, bit rot), a piece is served
                  // only if it still matches its hash.
                  if (status->ok() && verify && sha1(buf->data(), buf->size()) != expected)
                      *status = make_error("file changed: " + files_of(*st, piece) + " (piece " +
                                           std::to_string(piece) + " fails its hash check)");
              },
              [imp = impl_.get(), st, piece, key, buf, status](Status job) {
                  if (!job.ok()) *status = std::move(job);
                  auto node = imp->inflight.extract(key);
                  if (status->ok()) {
                      imp->stats.bytes_read += buf->size();
                      imp->cache_insert(st, piece, buf);
                  }
                  if (node.empty()) return;
                  for (auto& w : node.mapped()) {
                      if (status->ok())
                          w.cb(Impl::slice(*buf, w.pos, w.len));
                      else
                          w.cb(status->error());
                      if (!imp->alive) return;
                  }
              });
}

void DiskIo::evict(const Storage* st) {
    auto& im = *impl_;
    for (auto it = im.cache.lower_bound({st, 0}); it != im.cache.end() && it->first.first == st;)
        im.cache_drop(it++);
}

size_t DiskIo::pending() const { return impl_->pending; }
size_t DiskIo::checks_pending() const {
    return impl_->check_queue.size() + (impl_->active_check ? 1 : 0);
}
DiskIoStats DiskIo::stats() const { return impl_->stats; }

// ---- check ----------------------------------------------------------------

CheckHandle DiskIo::check(std::shared_ptr<Storage> st, std::string piece_hashes,
                          std::function<void(uint32_t, uint32_t)> progress,
                          std::function<void(Result<PieceMask>)> done) {
    auto s = std::make_shared<CheckHandle::State>();
    s->impl = impl_;
    s->st = std::move(st);
    s->hashes = std::move(piece_hashes);
    s->progress = std::move(progress);
    s->done = std::move(done);
    impl_->check_queue.push_back(s);
    if (!impl_->active_check) impl_->start_next_check();
    return CheckHandle(s);
}

void CheckHandle::cancel() {
    if (!state_ || state_->cancelled || state_->finished) return;
    auto s = state_;
    s->cancelled = true;
    s->cancel_flag = true;
    s->progress = nullptr;
    s->done = nullptr;
    auto impl = s->impl.lock();
    if (!impl) return;
    auto& q = impl->check_queue;
    q.erase(std::remove(q.begin(), q.end(), s), q.end());
    if (impl->active_check == s && s->in_flight == 0) {
        impl->active_check.reset();
        impl->start_next_check();
    }
}

void DiskIo::Impl::start_next_check() {
    while (!active_check && !check_queue.empty()) {
        auto s = check_queue.front();
        check_queue.pop_front();
        const FileLayout& lay = s->st->layout();
        s->total = lay.num_pieces();
        if (s->hashes.size() != size_t(s->total) * 20) {
            s->finished = true;
            auto done = std::move(s->done);
            post([done, n = s->total] {
                if (done) done(make_error("piece hashes do not match the layout (" + std::to_string(n) + " pieces)"));
            });
            continue;
        }
        active_check = s;
        s->mask.assign(s->total, 0);
        if (s->total == 0) {
            // Nothing to read; still answer asynchronously.
            post([self = shared_from_this(), s] {
                if (self->active_check == s) self->finish_check(s);
            });
            return;
        }
        schedule_check_jobs(s);
    }
}

void DiskIo::Impl::schedule_check_jobs(const std::shared_ptr<CheckHandle::State>& s) {
    const FileLayout& lay = s->st->layout();
    int64_t pl = lay.piece_length();
    uint32_t per_job = uint32_t(std::max<int64_t>(1, int64_t(opt.check_chunk) / pl));
    while (s->in_flight < opt.check_jobs && s->next_piece < s->total) {
        uint32_t first = s->next_piece;
        uint32_t count = std::min(per_job, s->total - first);
        s->next_piece += count;
        ++s->in_flight;
        std::unique_ptr<std::vector<uint8_t>> buf;
        if (!s->spare_buffers.empty()) {
            buf = std::move(s->spare_buffers.back());
            s->spare_buffers.pop_back();
        } else {
            buf = std::make_unique<std::vector<uint8_t>>();
        }
        struct Out {
            std::unique_ptr<std::vector<uint8_t>> buf;
            std::vector<uint8_t> ok;
            int64_t bytes = 0;
        };
        auto out = std::make_shared<Out>();
        out->buf = std::move(buf);
        std::shared_ptr<Storage> st = s->st;
        const size_t slice = std::max<size_t>(opt.check_read, 4096);
        submit(
            [s, st, out, first, count, slice] {
                if (s->cancel_flag) return;
                // Each piece is read in slices small enough to stay in L2
                // while they are hashed: a multi-MiB buffer went to memory
                // on the copy from the page cache and came back for SHA-1.
                const FileLayout& lay = st->layout();
                if (out->buf->size() < slice) out->buf->resize(slice);
                uint8_t* buf = out->buf->data();
                std::vector<ByteRange> missing;
                out->ok.assign(count, 0);
                Sha1Hasher h;
                for (uint32_t i = 0; i < count; ++i) {
                    if (s->cancel_flag) return;
                    int64_t p_off = lay.piece_offset(first + i);
                    int64_t p_len = lay.piece_size(first + i);
                    bool whole = true;
                    for (int64_t at = 0; at < p_len && whole;) {
                        size_t n = size_t(std::min<int64_t>(int64_t(slice), p_len - at));
                        missing.clear();
                        // A failing read (EIO, a symlink in the way) or a
                        // hole leaves the piece unverified; the download
                        // will rewrite it.
                        if (!st->read_lenient(p_off + at, buf, n, missing) || !missing.empty()) {
                            whole = false;
                        } else {
                            h.update(buf, n);
                            out->bytes += int64_t(n);
                        }
                        at += int64_t(n);
                    }
                    Sha1Digest d = h.finish();
                    out->ok[i] = whole && std::memcmp(d.data(), s->hashes.data() + size_t(first + i) * 20, 20) == 0;
                }
            },
            // A job that did not run leaves out->ok empty: its pieces count
            // as unverified and will be downloaded again.
            [self = shared_from_this(), s, out, first, count](Status) {
                --s->in_flight;
                s->spare_buffers.push_back(std::move(out->buf));
                if (s->cancelled) {
                    if (s->in_flight == 0 && self->active_check == s) {
                        self->active_check.reset();
                        self->start_next_check();
                    }
                    return;
                }
                self->stats.bytes_read += uint64_t(out->bytes);
                for (uint32_t i = 0; i < count && i < out->ok.size(); ++i) s->mask[first + i] = out->ok[i];
                s->pieces_done += count;
                if (s->progress) s->progress(s->pieces_done, s->total);
                if (!self->alive || s->cancelled) {
                    if (s->cancelled && s->in_flight == 0 && self->active_check == s) {
                        self->active_check.reset();
                        self->start_next_check();
                    }
                    return;
                }
                if (s->next_piece < s->total) {
                    self->schedule_check_jobs(s);
                } else if (s->in_flight == 0) {
                    self->finish_check(s);
                }
            });
    }
}

void DiskIo::Impl::finish_check(const std::shared_ptr<CheckHandle::State>& s) {
    s->finished = true;
    active_check.reset();
    auto done = std::move(s->done);
    s->progress = nullptr;
    auto mask = std::move(s->mask);
    s->spare_buffers.clear();
    start_next_check();
    if (done) done(std::move(mask));
}

}  // namespace btl
