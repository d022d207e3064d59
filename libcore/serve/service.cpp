#include "serve/service.hpp"

namespace core::serve {

Service::Service(http::Socket listener, Backend& backend, Recorder::Write write,
                 ServiceOptions options)
    : options_(std::move(options)),
      pool_(options_.upstream_host, options_.upstream_port, options_.connect_timeout) {
    admission_ = std::make_unique<Admission>(backend, options_.admission, options_.on_event);
    recorder_ = std::make_unique<Recorder>(std::move(write), options_.record_interval,
                                           options_.record_batch, options_.on_error);
    proxy_ = std::make_unique<Proxy>(pool_, *admission_, *recorder_, options_.proxy);
    server_ = std::make_unique<http::Server>(
        std::move(listener),
        [this](http::Exchange& ex) {
            auto path = path_of(ex.request().target);
            if ((path.substr(0, 10) == "/modelctl/" || path == "/metrics") && options_.local &&
                options_.local(ex))
                return;
            proxy_->handle(ex);
        },
        options_.server);
    admission_->refresh();
}

Service::~Service() {
    stop();
    if (ticker_.joinable())
        ticker_.join();
}

void Service::run() {
    ticker_ = std::thread([this] { ticker(); });
    server_->run();
}

void Service::stop() {
    {
        std::lock_guard lock(tick_mutex_);
        stopping_ = true;
    }
    tick_wake_.notify_all();
    server_->stop();
}

void Service::drain(std::chrono::milliseconds grace) {
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (server_->connections() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (server_->connections() > 0)
        server_->abort();
    recorder_->flush();
}

void Service::ticker() {
    std::unique_lock lock(tick_mutex_);
    while (!stopping_) {
        tick_wake_.wait_for(lock, options_.tick, [this] { return stopping_.load(); });
        if (stopping_)
            break;
        lock.unlock();
        if (options_.idle_timeout)
            admission_->expire(options_.idle_timeout);
        else
            admission_->refresh();
        lock.lock();
    }
}

} // namespace core::serve
