#include "downloads.hpp"

#include "catalog.hpp"
#include "util/timestamp.hpp"

namespace modelsim {

using json = nlohmann::json;

namespace {

std::chrono::microseconds micros(double seconds) {
    return std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
}

} // namespace

json Downloads::start(const std::string& model) {
    try {
        sim_.library().find(model);
        return {{"status", "already_downloaded"}};
    } catch (const ApiError&) {
    }
    std::lock_guard lock(mu_);
    for (const auto& [id, job] : jobs_)
        if (job.pull.name == model && job.status == "downloading")
            return view(job);
    Job job;
    try {
        job.pull = sim_.library().start_pull(model);
    } catch (const ApiError&) {
        throw ApiError{404, "Model '" + model + "' was not found in the LM Studio catalog"};
    }
    job.id = "job_" + sha256_hex(model + "/" + std::to_string(next_++)).substr(0, 10);
    job.total = job.pull.model.size;
    job.stop_at = job.total;
    if (fail_half_way_)
        job.stop_at = job.total / 2;
    if (job.pull.disk_free < job.stop_at)
        job.stop_at = job.pull.disk_free;
    sim_.count_download();
    job.started = std::chrono::steady_clock::now();
    job.started_at = util::now();
    auto& stored = jobs_[job.id] = std::move(job);
    return view(stored);
}

json Downloads::status(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end())
        throw ApiError{404, "Download job '" + id + "' not found"};
    return view(it->second);
}

void Downloads::advance() {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    for (auto& [id, job] : jobs_)
        advance(job, now);
}

void Downloads::advance(Job& job, std::chrono::steady_clock::time_point now) {
    if (job.status != "downloading")
        return;
    double rate = sim_.config().pull_bandwidth * sim_.config().speed; // bytes a second
    double seconds = std::chrono::duration<double>(now - job.started).count();
    double bytes = seconds * rate;
    if (bytes < static_cast<double>(job.stop_at)) {
        job.downloaded = static_cast<uint64_t>(bytes);
        return;
    }
    job.downloaded = job.stop_at;
    if (job.stop_at < job.total) {
        job.status = "failed";
        return;
    }
    job.status = "completed";
    job.completed_at = job.started_at + micros(static_cast<double>(job.total) / rate);
    sim_.library().finish_pull(job.pull, sim_.timestamp(job.completed_at));
}

json Downloads::view(const Job& job) const {
    json out = {{"job_id", job.id},
                {"status", job.status},
                {"total_size_bytes", job.total},
                {"downloaded_bytes", job.downloaded}};
    if (job.status == "downloading") {
        double rate = sim_.config().pull_bandwidth * sim_.config().speed;
        out["bytes_per_second"] = rate;
        out["estimated_completion"] =
            util::format_rfc3339(job.started_at + micros(static_cast<double>(job.total) / rate));
    }
    out["started_at"] = util::format_rfc3339(job.started_at);
    if (job.status == "completed")
        out["completed_at"] = util::format_rfc3339(job.completed_at);
    return out;
}

} // namespace modelsim
