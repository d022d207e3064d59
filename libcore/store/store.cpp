#include "store/store.hpp"

#include "error.hpp"
#include "store/atomicfile.hpp"
#include "store/lockfile.hpp"
#include "util/file.hpp"
#include "util/size.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace core::store {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void make_private_dirs(const fs::path& dir) {
    if (fs::is_directory(dir))
        return;
    if (!dir.parent_path().empty() && dir.parent_path() != dir)
        make_private_dirs(dir.parent_path());
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw Error(ErrorKind::Store,
                    "cannot create directory " + dir.string() + ": " + std::strerror(errno));
}

} // namespace

fs::path default_dir(const Environment& env) {
    if (auto home = env.get_nonempty("MODELCTL_HOME"))
        return fs::path(*home);
    // XDG Base Directory spec: relative paths are invalid and must be ignored.
    if (auto xdg = env.get_nonempty("XDG_STATE_HOME"); xdg && fs::path(*xdg).is_absolute())
        return fs::path(*xdg) / "modelctl";
    if (auto home = env.get_nonempty("HOME"))
        return fs::path(*home) / ".local" / "state" / "modelctl";
    throw Error(ErrorKind::Store, "cannot find a place for the store: HOME is not set",
                "set MODELCTL_HOME or XDG_STATE_HOME");
}

Store::Store(fs::path dir, std::chrono::milliseconds lock_timeout, uint64_t max_log_bytes,
             std::string endpoint)
    : dir_(std::move(dir)), lock_timeout_(lock_timeout), max_log_bytes_(max_log_bytes),
      endpoint_(std::move(endpoint)) {}

void Store::identify(std::string url, std::set<std::string> siblings,
                     std::function<void(const std::string&)> notice,
                     std::map<std::string, std::string> assumed) {
    url_ = std::move(url);
    assumed_ = std::move(assumed);
    siblings_ = std::move(siblings);
    notice_ = std::move(notice);
}

void Store::adopt(State& s) const {
    if (url_.empty())
        return;
    if (s.models.empty()) {
        for (auto it = s.other_endpoints.begin(); it != s.other_endpoints.end(); ++it) {
            const std::string name = it->first;
            auto u = s.urls.find(name);
            auto a = assumed_.find(name);
            const std::string* url = u != s.urls.end()     ? &u->second
                                     : a != assumed_.end() ? &a->second
                                                           : nullptr;
            if (name == endpoint_ || siblings_.count(name) || !url || *url != url_ ||
                it->second.empty())
                continue;
            s.models = std::move(it->second);
            auto& former = s.formerly[endpoint_];
            former.push_back(name);
            for (const auto& f : s.formerly[name])
                former.push_back(f);
            s.formerly.erase(name);
            s.urls.erase(name);
            s.other_endpoints.erase(it);
            s.adopted_from = name;
            if (notice_ && !noticed_) {
                noticed_ = true;
                notice_("endpoint '" + endpoint_ + "' takes over what modelctl knew as '" + name +
                        "' (the same server, " + url_ + "): pins, priorities, history and usage");
            }
            break;
        }
    }
    if (!s.models.empty())
        s.urls[endpoint_] = url_;
}

std::vector<Event> Store::stamped(std::vector<Event> events) const {
    for (auto& e : events)
        if (e.endpoint.empty())
            e.endpoint = endpoint_;
    return events;
}

void Store::ensure_dir() const {
    make_private_dirs(dir_);
}

namespace {

// state.json for thousands of models with their bench history stays in the
// low megabytes; a file past this was not written by modelctl.
constexpr uint64_t kMaxStateBytes = 256ULL << 20;

// A log file as read: -1 when absent.
struct LogFile {
    int fd = -1;
    uint64_t dev = 0, ino = 0, size = 0;
    LogFile() = default;
    LogFile(const fs::path& p, uint64_t max_bytes) {
        fd = util::open_regular(p, ErrorKind::Store, size);
        if (fd < 0)
            return;
        struct stat st {};
        if (::fstat(fd, &st) != 0)
            throw Error(ErrorKind::Store,
                        "cannot read " + p.string() + ": " + util::errno_text(errno));
        dev = static_cast<uint64_t>(st.st_dev);
        ino = static_cast<uint64_t>(st.st_ino);
        if (size > max_bytes)
            throw Error(ErrorKind::Store,
                        p.string() + " is larger than the " + util::format_size(max_bytes) +
                            " modelctl reads (history.max_log_size rotates it far sooner)",
                        "move it aside; it is not a log modelctl wrote");
    }
    ~LogFile() {
        if (fd >= 0)
            ::close(fd);
    }
    LogFile(const LogFile&) = delete;
    LogFile& operator=(const LogFile&) = delete;
    bool is(const LogMark& m) const { return fd >= 0 && ino == m.ino && dev == m.dev; }
    // Bytes [from, size), at most `most`; throws on a read error.
    std::string read_from(uint64_t from, const fs::path& p, uint64_t most = UINT64_MAX) const {
        std::string text(std::min(size > from ? size - from : 0, most), '\0');
        size_t have = 0;
        while (have < text.size()) {
            ssize_t n = ::pread(fd, text.data() + have, text.size() - have,
                                static_cast<off_t>(from + have));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                throw Error(ErrorKind::Store,
                            "cannot read " + p.string() + ": " + util::errno_text(errno));
            if (n == 0)
                break; // truncated meanwhile
            have += static_cast<size_t>(n);
        }
        text.resize(have);
        return text;
    }
    bool has_header(const fs::path& p) const {
        size_t want = std::strlen(kLogHeader);
        return size >= want && read_from(0, p, want) == kLogHeader;
    }
};

// Calls on_line for each complete line of `text`; returns the length of the
// complete lines (a torn last line is left for later).
template <class F> size_t each_line(std::string_view text, F on_line) {
    size_t start = 0, end;
    while ((end = text.find('\n', start)) != std::string_view::npos) {
        on_line(text.substr(start, end - start));
        start = end + 1;
    }
    return start;
}

std::optional<Event> parse_event(std::string_view line) {
    auto j = json::parse(line, nullptr, false);
    return j.is_discarded() ? std::nullopt : event_from_json(j);
}

[[noreturn]] void mark_past_end(const fs::path& log, const LogMark& m, uint64_t size) {
    throw Error(ErrorKind::Store,
                "the usage log " + log.string() + " is shorter (" + std::to_string(size) +
                    " bytes) than state.json says it has folded (" + std::to_string(m.offset) +
                    "): it was replaced or truncated",
                "`modelctl store --repair` folds in the uses it holds that the state lacks");
}

} // namespace

uint64_t Store::max_log_read() const {
    return std::max<uint64_t>(4 * max_log_bytes_, 64ULL << 20);
}

State Store::read_unlocked(json* document) const {
    auto text = util::read_file(state_path(), kMaxStateBytes, ErrorKind::Store);
    if (!text) {
        State empty;
        empty.endpoint = endpoint_;
        return empty;
    }
    json j = json::parse(*text, nullptr, false);
    const std::string hint = "move it aside with `modelctl store --repair` (the file is kept)";
    if (j.is_discarded())
        throw Error(ErrorKind::Store,
                    "the store file " + state_path().string() +
                        " is corrupt (not valid JSON); it was left untouched",
                    hint);
    try {
        State s = state_from_json(j, endpoint_);
        if (document)
            *document = std::move(j);
        return s;
    } catch (const Error& e) {
        bool newer = std::string(e.what()).find("newer") != std::string::npos;
        throw Error(ErrorKind::Store,
                    "the store file " + state_path().string() + " " + e.what() +
                        "; it was left untouched",
                    newer ? "upgrade modelctl, or point MODELCTL_HOME elsewhere" : hint);
    }
}

State Store::read() const {
    State s = read_unlocked();
    fold_pending(s);
    adopt(s);
    return s;
}

void Store::fold_pending(State& s) const {
    if (!s.log)
        return; // an older state: its log was folded as it was written
    auto fold = [&s](std::string_view text) {
        return each_line(text, [&s](std::string_view line) {
            if (auto e = parse_event(line); e && e->type == "use")
                fold_use(s, *e);
        });
    };
    // The file the mark names is the current log, or, after a rotation the
    // state did not see (a crash), the rotated one: then all of the current
    // log is past the mark too.
    LogMark mark = *s.log;
    LogFile cur(events_path(), max_log_read());
    uint64_t from = 0;
    if (cur.is(mark)) {
        if (mark.offset > cur.size)
            mark_past_end(events_path(), mark, cur.size);
        from = mark.offset;
    } else {
        LogFile old(rotated_events_path(), max_log_read());
        if (old.is(mark)) {
            if (mark.offset > old.size)
                mark_past_end(rotated_events_path(), mark, old.size);
            fold(old.read_from(mark.offset, rotated_events_path()));
        }
    }
    if (cur.fd < 0) {
        s.log.reset();
        return;
    }
    uint64_t to = from + fold(cur.read_from(from, events_path()));
    s.log = LogMark{cur.dev, cur.ino, to};
}

void Store::append(const std::vector<Event>& given) {
    if (given.empty())
        return;
    auto uses = stamped(given);
    std::string lines;
    for (const auto& e : uses)
        lines += to_json(e).dump() + "\n";
    ensure_dir();
    LockFile lock(dir_ / "lock", lock_timeout_);
    // The common case: the log has a header (so the state has a mark), stays
    // within its size and does not cross a fold boundary: one append. The
    // state is not read (that is what makes recording cheap); a damaged one
    // is reported by the next command that reads it, and repair() folds
    // these uses in again.
    struct stat st {};
    if (::stat(state_path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        LogFile log(events_path(), max_log_read());
        auto after = log.size + lines.size();
        if (log.fd >= 0 && log.has_header(events_path()) && after <= max_log_bytes_ &&
            log.size / kFoldBytes == after / kFoldBytes) {
            append_durably(events_path(), lines);
            return;
        }
    }
    update_locked([](State&) {}, std::move(lines), uses);
}

State Store::update(const std::function<void(State&)>& mutate, const std::vector<Event>& given) {
    auto events = stamped(given);
    std::string lines;
    for (const auto& e : events)
        lines += to_json(e).dump() + "\n";
    ensure_dir();
    LockFile lock(dir_ / "lock", lock_timeout_);
    return update_locked(mutate, std::move(lines), events);
}

State Store::update_locked(const std::function<void(State&)>& mutate, std::string lines,
                           const std::vector<Event>& events) {
    // What the file holds now, to tell whether the mutation changed anything
    // (as parsed: serializing the state again would cost as much once more).
    json before;
    State state = read_unlocked(&before);
    if (before.is_null())
        before = to_json(state);
    fold_pending(state);
    adopt(state);
    if (!lines.empty()) {
        bool exists = false, header = false;
        uint64_t size = 0;
        {
            LogFile log(events_path(), max_log_read());
            exists = log.fd >= 0 && log.size > 0;
            header = exists && log.has_header(events_path());
            size = log.size;
        }
        // Everything in the log is folded now: a log too big to grow, or one
        // from before log marks, can be set aside whole.
        if (exists && (!header || size + lines.size() > max_log_bytes_)) {
            rename_durably(events_path(), rotated_events_path());
            exists = false;
        }
        if (!exists)
            lines = kLogHeader + lines;
        append_durably(events_path(), lines);
        for (const auto& e : events)
            if (e.type == "use")
                fold_use(state, e);
        LogFile log(events_path(), max_log_read());
        if (log.fd >= 0)
            state.log = LogMark{log.dev, log.ino, log.size};
    }
    mutate(state);
    adopt(state); // records the url of an endpoint that had none before
    json after = to_json(state);
    if (after != before)
        write_atomically(state_path(), after.dump() + "\n");
    return state;
}

EventLog Store::read_events() const {
    EventLog log;
    // Open the current log before the rotated one: if a rotation happens in
    // between, both name the same file, and it is read once.
    LogFile cur(events_path(), max_log_read());
    LogFile old(rotated_events_path(), max_log_read());
    log.rotated = old.fd >= 0;
    bool same = log.rotated && cur.fd >= 0 && old.ino == cur.ino && old.dev == cur.dev;
    auto read = [&log](std::string_view text) {
        size_t done = each_line(text, [&log](std::string_view line) {
            if (line.empty() || (line.size() + 1 == std::strlen(kLogHeader) &&
                                 std::string(line) + "\n" == kLogHeader))
                return;
            if (auto e = parse_event(line))
                log.events.push_back(std::move(*e));
            else
                ++log.skipped;
        });
        if (done < text.size()) // a torn last line
            ++log.skipped;
    };
    if (log.rotated && !same)
        read(old.read_from(0, rotated_events_path()));
    if (cur.fd >= 0)
        read(cur.read_from(0, events_path()));
    return log;
}

State Store::check_writable() const {
    ensure_dir();
    LockFile lock(dir_ / "lock", lock_timeout_);
    State state = read();
    for (const auto& p : {dir_, state_path()})
        if (::access(p.c_str(), W_OK) != 0 && errno != ENOENT)
            throw Error(ErrorKind::Store,
                        "cannot write " + p.string() + ": " + util::errno_text(errno),
                        "check its owner and mode (was modelctl once run with sudo?)");
    return state;
}

RepairReport Store::repair() {
    ensure_dir();
    LockFile lock(dir_ / "lock", lock_timeout_);
    RepairReport report;
    std::optional<State> state;
    try {
        state = read_unlocked();
    } catch (const Error& e) {
        if (std::string(e.what()).find("newer modelctl") != std::string::npos)
            throw; // not ours to replace
        // Unreadable: moved aside below, and rebuilt from the log.
    }
    if (state) {
        try {
            fold_pending(*state);
            return report; // healthy
        } catch (const Error& e) {
            if (std::string(e.what()).find("shorter") == std::string::npos)
                throw;
        }
        // The log was replaced under the mark: fold its uses that are newer
        // than what each model's summary already holds.
        report.log_replaced = true;
        LogFile cur(events_path(), max_log_read());
        auto text = cur.fd >= 0 ? cur.read_from(0, events_path()) : std::string();
        size_t done = each_line(text, [&](std::string_view line) {
            auto e = parse_event(line);
            if (!e || e->type != "use")
                return;
            std::string ep = owner(*state, *e);
            auto& models = ep == state->endpoint ? state->models : state->other_endpoints[ep];
            auto it = models.find(e->model);
            double at = std::chrono::duration<double>(e->at.time_since_epoch()).count();
            if (it != models.end() && it->second.usage.last_use && at <= *it->second.usage.last_use)
                return;
            fold_use(*state, *e);
            ++report.uses_folded;
        });
        state->log = cur.fd >= 0 ? std::optional(LogMark{cur.dev, cur.ino, done}) : std::nullopt;
        write_atomically(state_path(), to_json(*state).dump() + "\n");
        return report;
    }
    std::string stamp = util::format_rfc3339(util::now()).substr(0, 19);
    for (char& c : stamp)
        if (c == ':')
            c = '-';
    fs::path aside = state_path();
    aside += ".corrupt-" + stamp;
    std::error_code ec;
    for (int i = 1; fs::exists(aside, ec); ++i) {
        aside = state_path();
        aside += ".corrupt-" + stamp + "-" + std::to_string(i);
    }
    rename_durably(state_path(), aside);
    report.moved_to = aside;
    // What can be had again: every use in the log (the rotated part first).
    State fresh;
    fresh.endpoint = endpoint_;
    auto log = read_events();
    for (const auto& e : log.events)
        if (e.type == "use") {
            fold_use(fresh, e);
            ++report.uses_folded;
        }
    LogFile cur(events_path(), max_log_read());
    if (cur.fd >= 0) {
        bool header = cur.has_header(events_path());
        auto text = cur.read_from(0, events_path());
        auto done = each_line(text, [](std::string_view) {});
        if (header) // uses past the mark fold later; all before it are in
            fresh.log = LogMark{cur.dev, cur.ino, done};
    }
    write_atomically(state_path(), to_json(fresh).dump() + "\n");
    return report;
}

} // namespace core::store
