#include <stdio.h>
#include <string.h>

#include <sluicegate.h>

int main(void)
{
    /* At most 2 requests per client in any 60 seconds. */
    const sg_window per_minute = {.limit = 2, .duration_us = 60000000};
    sg_limiter_config config;
    memset(&config, 0, sizeof config);
    config.struct_size = sizeof config;
    config.time_base = SG_TIME_BASE_CALLER; /* we pass the time; the default reads a clock */
    config.windows = &per_minute;
    config.windows_len = 1;

    sg_limiter *limiter = NULL;
    if (sg_limiter_new(&config, &limiter) != SG_OK) {
        char why[256];
        size_t len;
        sg_last_error(why, sizeof why, &len);
        fprintf(stderr, "bad limiter config: %s\n", why);
        return 1;
    }

    const char *client = "203.0.113.7";
    for (int i = 0; i < 3; i++) {
        uint64_t now_us = (uint64_t)i * 1000; /* 0, 1 and 2 ms */
        sg_decision d;
        sg_result r = sg_limiter_check_now(limiter, (const uint8_t *)client, strlen(client), 1,
                                           now_us, &d);
        if (r != SG_OK) {
            fprintf(stderr, "check failed: %s\n", sg_result_message(r));
            break;
        }
        if (d.allowed) {
            printf("request %d: allowed, %llu left\n", i + 1, (unsigned long long)d.remaining);
        } else {
            printf("request %d: rejected, retry in %.3f s\n", i + 1, d.retry_after_us / 1e6);
        }
    }
    sg_limiter_free(limiter);
    return 0;
}
