#include "btl/disk/piece_store.hpp"

namespace btl {

PieceStore::CancelFn DiskPieceStore::check(const std::string& piece_hashes,
                                           std::function<void(uint32_t, uint32_t)> progress,
                                           std::function<void(Result<PieceMask>)> done) {
    CheckHandle h = disk_.check(storage_, piece_hashes, std::move(progress), std::move(done));
    return [h]() mutable { h.cancel(); };
}

void DiskPieceStore::free_space(std::function<void(int64_t)> cb) {
    // statfs on the pool: a network filesystem may take its time to answer.
    struct Job {
        uv_fs_t req;
        std::function<void(int64_t)> cb;
    };
    auto* j = new Job{};
    j->cb = std::move(cb);
    j->req.data = j;
    int rc = uv_fs_statfs(loop_, &j->req, storage_->base_dir().c_str(), [](uv_fs_t* r) {
        std::unique_ptr<Job> job(static_cast<Job*>(r->data));
        int64_t free_bytes = -1;
        if (r->result == 0 && r->ptr) {
            auto* sf = static_cast<const uv_statfs_t*>(r->ptr);
            free_bytes = int64_t(sf->f_bavail * sf->f_bsize);
        }
        uv_fs_req_cleanup(r);
        job->cb(free_bytes);
    });
    if (rc < 0) {
        auto f = std::move(j->cb);
        delete j;
        f(-1);
    }
}

void DiskPieceStore::create_empty_files(std::function<void(Status)> done, std::vector<bool> skip) {
    // Opening (O_CREAT) and making directories may block: the pool, never
    // the loop.  The storage is captured so the job outlives a removal.
    auto st = queue_job(
        loop_, jobs_.token(), [storage = storage_, skip = std::move(skip)] { return storage->create_empty_files(skip); },
        [done](Status s) { done(std::move(s)); });
    if (!st.ok()) done(std::move(st));
}

}  // namespace btl
