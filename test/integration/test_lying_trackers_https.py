#!/usr/bin/python3
"""The lying-tracker suite (test_lying_trackers.py) with every HTTP lie served
over HTTPS by a test CA's certificate and our clients given --ca_file: body
and time bounds, the redirect limit, retries with backoff and the status
lines must hold through TLS as they do in plain HTTP."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import test_lying_trackers  # noqa: E402

if __name__ == "__main__":
    H.run_main(lambda: test_lying_trackers.main(https=True))
