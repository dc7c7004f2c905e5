#include "btl/disk/block_assembler.hpp"

#include <algorithm>

namespace btl {

std::atomic<int64_t> BlockAssembler::held_total_{0};

struct BlockAssembler::Partial {
    uint32_t piece = 0;
    uint32_t nblocks = 0;
    int64_t size = 0;
    Sha1Digest expected{};
    std::mutex m;  // guards everything below but ctx
    Sha1Hasher ctx;  // only the thread that set `hashing` touches it
    uint32_t next = 0;  // blocks [0, next) are hashed
    std::vector<uint8_t> written;
    std::map<uint32_t, BlockBuffer> held;  // written, ahead of `next`, kept in memory
    bool hashing = false, finished = false;
    Status err = Ok{};

    ~Partial() {
        for (auto& [i, b] : held) held_total_ -= int64_t(b.size());
    }
};

BlockAssembler::BlockAssembler(int64_t piece_length, int64_t total_length, uint32_t block_size)
    : piece_length_(piece_length), total_(total_length), block_size_(block_size) {}

BlockAssembler::~BlockAssembler() = default;

int64_t BlockAssembler::piece_size(uint32_t piece) const {
    int64_t off = int64_t(piece) * piece_length_;
    return std::max<int64_t>(0, std::min(piece_length_, total_ - off));
}

std::shared_ptr<BlockAssembler::Partial> BlockAssembler::partial(uint32_t piece, const Sha1Digest& expected,
                                                                 uint64_t epoch) {
    std::lock_guard lk(mu_);
    if (epoch != epoch_.load()) return nullptr;
    auto& p = parts_[piece];
    if (!p) {
        p = std::make_shared<Partial>();
        p->piece = piece;
        p->size = piece_size(piece);
        p->nblocks = uint32_t((p->size + block_size_ - 1) / block_size_);
        p->expected = expected;
        p->written.assign(p->nblocks, 0);
    }
    return p;
}

std::vector<PieceVerdict> BlockAssembler::write(const std::vector<BlockWrite>& blocks, const BlockIo& io,
                                                uint64_t epoch) {
    std::vector<PieceVerdict> out;
    // Runs of blocks that follow each other in the stream go down in one
    // gathered write (a batch is mostly one peer's blocks, in order), then
    // each block of the run is fed to its piece's hasher.
    // At most 4 blocks (64 KiB) per call: measured on this kernel (6.18,
    // ext4), page-cache writes of 256 KiB and 1 MiB cost 2-3x the system
    // time of 16-64 KiB ones (bigger folios, which come from colder
    // memory); 4 blocks cut the pwrite calls 4x at no extra cost.
    constexpr size_t kMaxRun = 4;
    std::vector<std::shared_ptr<Partial>> parts;
    std::vector<iovec> iov;
    std::vector<const BlockWrite*> run;
    int64_t run_off = 0, run_end = 0;
    auto flush = [&] {
        if (run.empty()) return;
        if (run.size() == 1 || !io.write_gather) {
            for (size_t i = 0; i < run.size(); ++i) {
                Status st = io.write(run_off, run[i]->data.data(), run[i]->data.size());
                run_off += int64_t(run[i]->data.size());
                block_written(parts[i], *run[i], std::move(st), io, out);
            }
        } else {
            // A failed gathered write fails every block of the run: which of
            // them reached the file is unknown, so none is trusted.
            Status st = io.write_gather(run_off, iov.data(), iov.size());
            for (size_t i = 0; i < run.size(); ++i) block_written(parts[i], *run[i], st, io, out);
        }
        run.clear();
        parts.clear();
        iov.clear();
    };
    for (const auto& w : blocks) {
        if (!w.data || piece_size(w.piece) <= int64_t(w.block) * block_size_) continue;
        auto p = partial(w.piece, w.expected, epoch);
        if (!p) continue;  // queued before drop_all(): the torrent forgot it
        int64_t off = int64_t(w.piece) * piece_length_ + int64_t(w.block) * block_size_;
        if (!run.empty() && (off != run_end || run.size() >= kMaxRun)) flush();
        if (run.empty()) run_off = run_end = off;
        run.push_back(&w);
        parts.push_back(std::move(p));
        iov.push_back(iovec{const_cast<uint8_t*>(w.data.data()), w.data.size()});
        run_end += int64_t(w.data.size());
    }
    flush();
    return out;
}

// Blocks [next, block) are all written (looks at most 64 of them).
bool BlockAssembler::written_up_to(const Partial& p, uint32_t block) {
    if (block < p.next || block - p.next > 64) return false;
    for (uint32_t i = p.next; i < block; ++i)
        if (!p.written[i]) return false;
    return true;
}

void BlockAssembler::block_written(const std::shared_ptr<Partial>& p, const BlockWrite& w, Status st,
                                   const BlockIo& io, std::vector<PieceVerdict>& out) {
    std::unique_lock lk(p->m);
    if (p->finished || w.block >= p->nblocks || p->written[w.block]) return;
    if (!st.ok() && p->err.ok()) p->err = std::move(st);
    p->written[w.block] = 1;
    if (w.block != p->next || p->hashing) {
        // Ahead of a gap (or another thread is hashing): keep the buffer
        // if the budget allows, so the hasher need not read it back.  A
        // slice of a read slab keeps the whole slab: it is held as it is
        // only while nothing is missing before it (the running hasher gets
        // to it at once), else a copy is held.
        int64_t n = int64_t(w.data.size());
        if (held_total_.fetch_add(n) + n <= kHeldBudget)
            p->held[w.block] = w.data.footprint() > 2 * w.data.size() && !written_up_to(*p, w.block)
                                   ? copy_block_buffer(w.data.data(), w.data.size())
                                   : w.data;
        else
            held_total_ -= n;
    }
    if (p->hashing) return;  // the running hasher picks this block up
    p->hashing = true;
    hash_run(*p, w, io, lk);
    p->hashing = false;
    if (p->next < p->nblocks || p->finished) return;
    p->finished = true;
    PieceVerdict v;
    v.piece = p->piece;
    Sha1Digest d = p->ctx.finish();
    if (!p->err.ok()) {
        v.hash_ok = true;
        v.write = p->err;
    } else {
        v.hash_ok = d == p->expected;
    }
    out.push_back(std::move(v));
    lk.unlock();
    std::lock_guard mk(mu_);
    auto it = parts_.find(p->piece);
    if (it != parts_.end() && it->second == p) parts_.erase(it);
}

void BlockAssembler::hash_run(Partial& p, const BlockWrite& w, const BlockIo& io, std::unique_lock<std::mutex>& lk) {
    std::vector<uint8_t> scratch;
    while (p.next < p.nblocks && p.written[p.next]) {
        const uint32_t i = p.next;
        BlockBuffer buf;
        auto it = p.held.find(i);
        if (it != p.held.end()) {
            buf = std::move(it->second);
            held_total_ -= int64_t(buf.size());
            p.held.erase(it);
        } else if (i == w.block) {
            buf = w.data;
        }
        lk.unlock();
        const int64_t off = int64_t(i) * block_size_;
        const size_t len = size_t(std::min<int64_t>(block_size_, p.size - off));
        Status rs = Ok{};
        if (buf && buf.size() == len) {
            p.ctx.update(buf.data(), len);
        } else {
            // Dropped for the budget: the file has it (its write finished).
            scratch.resize(len);
            rs = io.read(int64_t(p.piece) * piece_length_ + off, scratch.data(), len);
            p.ctx.update(scratch.data(), len);
        }
        buf.reset();
        lk.lock();
        if (!rs.ok() && p.err.ok()) p.err = std::move(rs);
        ++p.next;
    }
}

void BlockAssembler::drop_all() {
    std::lock_guard lk(mu_);
    ++epoch_;
    parts_.clear();
}

size_t BlockAssembler::partial_pieces() const {
    std::lock_guard lk(mu_);
    return parts_.size();
}

}  // namespace btl
