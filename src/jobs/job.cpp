#include "jobs/job.hpp"

namespace parley::jobs {

std::string_view state_name(JobState s) {
  switch (s) {
    case JobState::queued: return "queued";
    case JobState::running: return "running";
    case JobState::dead: return "dead";
  }
  return "queued";
}

std::optional<JobState> parse_state(std::string_view name) {
  for (JobState s : {JobState::queued, JobState::running, JobState::dead}) {
    if (state_name(s) == name) return s;
  }
  return std::nullopt;
}

}  // namespace parley::jobs
