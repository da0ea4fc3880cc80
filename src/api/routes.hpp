#pragma once
// Route tables, one function per area. Each registers its routes with their credentials.
#include "api/router.hpp"

namespace parley::api {

void add_health_routes(Router& r);
void add_admin_routes(Router& r);
void add_job_routes(Router& r);
void add_webhook_routes(Router& r);
void add_auth_routes(Router& r);
void add_user_routes(Router& r);
void add_channel_routes(Router& r);
void add_message_routes(Router& r);
void add_search_routes(Router& r);
void add_presence_routes(Router& r);
void add_demo_routes(Router& r);
void add_file_routes(Router& r);

}  // namespace parley::api
