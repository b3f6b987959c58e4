-- wrk script for compare.sh: after the run, print the figures as one JSON object on a line of
-- its own, prefixed with "COMPARE_JSON ", so nothing parses wrk's human-readable text.
-- Latencies are wrk's own percentiles (microseconds), reported in milliseconds.

done = function(summary, latency, requests)
   local errors = summary.errors
   io.write(string.format(
      'COMPARE_JSON {"requests":%d,"seconds":%.6f,"rps":%.2f,"p50_ms":%.3f,"p99_ms":%.3f,'
         .. '"non_2xx_3xx":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,'
         .. '"timeouts":%d}\n',
      summary.requests,
      summary.duration / 1e6,
      summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000,
      latency:percentile(99) / 1000,
      errors.status, errors.connect, errors.read, errors.write, errors.timeout))
end
