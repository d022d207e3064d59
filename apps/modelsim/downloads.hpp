#pragma once
// LM Studio's model downloads (REST API v1, lmstudio.ai/docs/developer/rest/
// download and download-status): POST /api/v1/models/download starts a job
// and answers its status object; GET /api/v1/models/download/status/:job_id
// answers it again. A job is "downloading" until its bytes are there, then
// "completed" (the model is installed from then on) or "failed".
//
// Where the docs are silent, modelsim chooses:
//  - a model already installed answers {"status": "already_downloaded"};
//  - a model with a job under way answers that job again, not a second one;
//  - a model the catalog does not have is 404 {"error": ...};
//  - time runs as the Ollama pulls' does: --pull-bandwidth bytes a second,
//    divided by --speed; a job moves on whenever the server is asked
//    anything (advance()), so what it answers is as if it ran by itself;
//  - --fault pull-fail fails every job half way, and a job that would fill
//    --disk fails where the disk is full.

#include "library.hpp"
#include "simulator.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace modelsim {

class Downloads {
public:
    Downloads(Simulator& sim, bool fail_half_way) : sim_(sim), fail_half_way_(fail_half_way) {}

    // advance() runs before every request (the server's pre-routing
    // handler), so what these answer is up to date.
    // Starts the download of `model` (or finds it under way) and answers its
    // status. Throws ApiError 404 for a model the catalog does not have.
    nlohmann::json start(const std::string& model);
    // The status of job `id`. Throws ApiError 404 for a job that never was.
    nlohmann::json status(const std::string& id);
    // Brings every job up to now: a download whose bytes are all there is
    // installed.
    void advance();

private:
    struct Job {
        std::string id;
        Library::Pull pull;
        uint64_t total = 0;
        uint64_t stop_at = 0; // where it fails; total when it does not
        std::chrono::steady_clock::time_point started;
        util::Timestamp started_at;
        std::string status = "downloading";
        uint64_t downloaded = 0;
        util::Timestamp completed_at{};
    };
    void advance(Job& job, std::chrono::steady_clock::time_point now); // mu_ held
    nlohmann::json view(const Job& job) const;                         // mu_ held

    Simulator& sim_;
    bool fail_half_way_;
    std::mutex mu_;
    std::map<std::string, Job> jobs_; // by id
    int next_ = 1;
};

} // namespace modelsim
