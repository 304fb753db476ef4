// inferd audit export: the records of an audit log (inferd serve --audit-log), filtered by
// service and time, as JSON lines on stdout, for compliance review.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "server/audit/audit_log.h"

namespace inferd::cli {

Command add_audit_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("audit", "Work with the audit log of inferd serve --audit-log");
  auto* exp = cmd->add_subcommand("export", "Print the audit records that match, oldest first, one JSON line each");
  cmd->require_subcommand(1);
  auto path = std::make_shared<std::string>();
  auto filter = std::make_shared<server::AuditFilter>();
  exp->add_option("--log", *path, "The audit log file (its rotated files are read too)")->required();
  exp->add_option("--service", filter->service, "Only this service's records");
  exp->add_option("--since", filter->since, "Records from this UTC time on, e.g. 2026-11-01 or 2026-11-29T04:00");
  exp->add_option("--until", filter->until, "Records before this UTC time");
  return {cmd, [path, filter] {
            auto n = server::export_audit_records(*path, *filter, std::cout);
            std::cout.flush();
            if (!n.ok()) {
              std::fprintf(stderr, "inferd audit export: %s\n", n.status().message().c_str());
              return n.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
            }
            std::fprintf(stderr, "%lld records\n", static_cast<long long>(*n));
            return 0;
          }};
}

}  // namespace inferd::cli
