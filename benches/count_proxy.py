#!/usr/bin/env python3
"""A TCP proxy that counts the bytes a client receives: what an update moves over the wire.

    count_proxy.py TARGET_PORT COUNT_FILE

Listens on a free port of 127.0.0.1 (printed on the first line of stdout), forwards every
connection to 127.0.0.1:TARGET_PORT, and keeps in COUNT_FILE the total of bytes sent from the
server to clients and from clients to the server (`DOWN UP`, HTTP headers included), rewritten
after every chunk, so a reader sees the whole count once its client has exited. SIGUSR1 resets
the counters to zero. Runs until killed."""
import os, signal, socket, sys, threading

target = int(sys.argv[1])
count_file = sys.argv[2]
lock = threading.Lock()
totals = [0, 0]  # down (server -> client), up (client -> server)


def write():
    tmp = count_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{totals[0]} {totals[1]}\n")
    os.replace(tmp, count_file)


def reset(*_):
    with lock:
        totals[0] = totals[1] = 0
        write()


def pump(src, dst, index):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            with lock:
                totals[index] += len(data)
                write()
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client):
    try:
        server = socket.create_connection(("127.0.0.1", target))
    except OSError:
        client.close()
        return
    threading.Thread(target=pump, args=(server, client, 0), daemon=True).start()
    threading.Thread(target=pump, args=(client, server, 1), daemon=True).start()


signal.signal(signal.SIGUSR1, reset)
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
reset()
print(listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    serve(conn)
