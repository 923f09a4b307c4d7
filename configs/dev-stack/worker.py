"""A worker: takes a job every WORK_INTERVAL seconds and counts it in Redis. It prints
without flushing, as most programs do: on a pipe its lines would wait in Python's
buffer; on its terminal (`pty: true`) each comes when printed, in colour."""
import os
import socket
import time

REDIS = ("127.0.0.1", int(os.environ["REDIS_PORT"]))
ME = os.environ["TREERUN_REPLICA"]
GREEN, OFF = "\x1b[32m", "\x1b[0m"

job = 0
while True:
    job += 1
    with socket.create_connection(REDIS) as s:
        s.sendall(b"*2\r\n$4\r\nINCR\r\n$4\r\njobs\r\n")
        total = s.recv(64).strip().lstrip(b":").decode()
    print(f"worker {ME} of {os.environ['TREERUN_REPLICAS']}: job {job} {GREEN}done{OFF} ({total} in all)")
    time.sleep(float(os.environ.get("WORK_INTERVAL", "1")))
