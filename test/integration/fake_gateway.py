#!/usr/bin/env python3
"""A home router for the port-mapping tests, written for them: an SSDP
responder (239.255.255.250:1900), a UPnP IGD (device description plus a SOAP
control URL for WANIPConnection: GetStatusInfo, GetExternalIPAddress,
AddPortMapping, DeletePortMapping, GetSpecificPortMappingEntry,
GetGenericPortMappingEntry) and a NAT-PMP responder (UDP 5351, RFC 6886).

It only ever runs inside a network namespace the test made.  Its state (the
mappings, and a count of every request by action) is rewritten to
--state FILE as JSON after each request, so the test can watch it.

usage: fake_gateway.py --ip 10.77.0.1 --state FILE [--upnp] [--natpmp]
                       [--external 198.51.100.7] [--http_port N] [--max_lifetime S]
                       [--port_offset N]
"""
import argparse
import json
import os
import re
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICE = "urn:schemas-upnp-org:service:WANIPConnection:1"
SSDP_GROUP = "239.255.255.250"

DESC = """<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
<specVersion><major>1</major><minor>0</minor></specVersion>
<URLBase>http://{ip}:{port}/</URLBase>
<device>
<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
<friendlyName>test gateway</friendlyName><manufacturer>test</manufacturer><modelName>fake</modelName>
<UDN>uuid:00000000-0000-0000-0000-00000000feed</UDN>
<deviceList><device>
<deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
<UDN>uuid:00000000-0000-0000-0000-00000000fee1</UDN>
<serviceList><service>
<serviceType>urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1</serviceType>
<serviceId>urn:upnp-org:serviceId:WANCommonIFC1</serviceId>
<controlURL>/ctl/CmnIfCfg</controlURL><eventSubURL>/evt/CmnIfCfg</eventSubURL><SCPDURL>/WANCfg.xml</SCPDURL>
</service></serviceList>
<deviceList><device>
<deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
<UDN>uuid:00000000-0000-0000-0000-00000000fee2</UDN>
<serviceList><service>
<serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
<serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
<controlURL>/ctl/IPConn</controlURL><eventSubURL>/evt/IPConn</eventSubURL><SCPDURL>/WANIPCn.xml</SCPDURL>
</service></serviceList>
</device></deviceList>
</device></deviceList>
</device>
</root>
"""


class State:
    def __init__(self, path, external):
        self.path = path
        self.external = external
        self.lock = threading.Lock()
        self.mappings = {}   # "TCP:6881" -> dict
        self.counts = {}
        self.started = time.time()

    def count(self, what):
        self.counts[what] = self.counts.get(what, 0) + 1

    def save(self):
        now = time.time()
        live = {k: v for k, v in self.mappings.items() if not v["expires"] or v["expires"] > now}
        doc = {"pid": os.getpid(), "mappings": live, "counts": self.counts}
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, self.path)


def soap_args(body):
    return {m.group(1): m.group(2) for m in re.finditer(r"<(New\w+)[^>]*>([^<]*)</\1>", body)}


def soap_ok(action, fields):
    inner = "".join("<%s>%s</%s>" % (k, v, k) for k, v in fields)
    return ('<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
            's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
            '<u:%sResponse xmlns:u="%s">%s</u:%sResponse></s:Body></s:Envelope>\r\n' % (action, SERVICE, inner, action))


def soap_fault(code, desc):
    return ('<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
            's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><s:Fault>'
            '<faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>'
            '<UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>%d</errorCode>'
            '<errorDescription>%s</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>\r\n'
            % (code, desc))


def make_handler(state, ip, port):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def reply(self, code, body, ctype="text/xml; charset=\"utf-8\""):
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True

        def do_GET(self):
            if self.path == "/rootDesc.xml":
                with state.lock:
                    state.count("GET rootDesc")
                    state.save()
                return self.reply(200, DESC.format(ip=ip, port=port))
            self.reply(404, "")

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n).decode("utf-8", "replace")
            action = (self.headers.get("SOAPAction", "").strip('"').split("#") + [""])[1]
            a = soap_args(body)
            with state.lock:
                state.count(action)
                code, text = self.act(action, a)
                state.save()
            self.reply(code, text)

        def act(self, action, a):
            now = time.time()
            if action == "GetStatusInfo":
                return 200, soap_ok(action, [("NewConnectionStatus", "Connected"),
                                             ("NewLastConnectionError", "ERROR_NONE"),
                                             ("NewUptime", str(int(now - state.started)))])
            if action == "GetExternalIPAddress":
                return 200, soap_ok(action, [("NewExternalIPAddress", state.external)])
            key = "%s:%s" % (a.get("NewProtocol", ""), a.get("NewExternalPort", ""))
            if action == "AddPortMapping":
                old = state.mappings.get(key)
                if old and old["client"] != a.get("NewInternalClient"):
                    return 500, soap_fault(718, "ConflictInMappingEntry")
                lease = int(a.get("NewLeaseDuration", "0") or 0)
                state.mappings[key] = {"client": a.get("NewInternalClient"), "internal_port": int(a["NewInternalPort"]),
                                       "description": a.get("NewPortMappingDescription", ""), "lease": lease,
                                       "method": "UPnP", "expires": now + lease if lease else 0}
                state.count("add " + key)
                return 200, soap_ok(action, [])
            if action == "DeletePortMapping":
                if key not in state.mappings:
                    return 500, soap_fault(714, "NoSuchEntryInArray")
                del state.mappings[key]
                state.count("delete " + key)
                return 200, soap_ok(action, [])
            if action == "GetSpecificPortMappingEntry":
                m = state.mappings.get(key)
                if not m:
                    return 500, soap_fault(714, "NoSuchEntryInArray")
                return 200, soap_ok(action, [("NewInternalPort", m["internal_port"]), ("NewInternalClient", m["client"]),
                                             ("NewEnabled", "1"), ("NewPortMappingDescription", m["description"]),
                                             ("NewLeaseDuration", m["lease"])])
            if action == "GetGenericPortMappingEntry":
                i = int(a.get("NewPortMappingIndex", "0") or 0)
                keys = sorted(state.mappings)
                if i >= len(keys):
                    return 500, soap_fault(713, "SpecifiedArrayIndexInvalid")
                proto, ext = keys[i].split(":")
                m = state.mappings[keys[i]]
                return 200, soap_ok(action, [("NewRemoteHost", ""), ("NewExternalPort", ext), ("NewProtocol", proto),
                                             ("NewInternalPort", m["internal_port"]), ("NewInternalClient", m["client"]),
                                             ("NewEnabled", "1"), ("NewPortMappingDescription", m["description"]),
                                             ("NewLeaseDuration", m["lease"])])
            return 500, soap_fault(401, "Invalid Action")
    return Handler


def ssdp_loop(state, ip, http_port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 1900))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(SSDP_GROUP) + socket.inet_aton(ip))
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out.bind((ip, 0))
    while True:
        data, src = s.recvfrom(4096)
        text = data.decode("latin-1")
        if not text.startswith("M-SEARCH"):
            continue
        m = re.search(r"^ST:\s*(\S+)", text, re.M | re.I)
        st = m.group(1) if m else "upnp:rootdevice"
        if not any(k in st for k in ("InternetGatewayDevice", "WANIPConnection", "rootdevice", "ssdp:all")):
            continue
        with state.lock:
            state.count("M-SEARCH")
            state.save()
        reply = ("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: %s\r\nUSN: uuid:00000000-0000-0000-0000-"
                 "00000000feed::%s\r\nEXT:\r\nSERVER: Linux/6 UPnP/1.1 test/1.0\r\nLOCATION: http://%s:%d/rootDesc.xml"
                 "\r\n\r\n" % (st, st, ip, http_port))
        out.sendto(reply.encode(), src)


def natpmp_loop(state, ip, max_lifetime, port_offset):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, 5351))
    addr = socket.inet_aton(state.external)
    while True:
        data, src = s.recvfrom(64)
        epoch = int(time.time() - state.started)
        if len(data) < 2 or data[0] != 0:
            continue
        op = data[1]
        with state.lock:
            if op == 0 and len(data) == 2:
                state.count("natpmp public")
                s.sendto(struct.pack("!BBHI", 0, 128, 0, epoch) + addr, src)
            elif op in (1, 2) and len(data) == 12:
                _, _, _, iport, eport, life = struct.unpack("!BBHHHI", data)
                proto = "UDP" if op == 1 else "TCP"
                key = "%s:%d" % (proto, iport)
                if life == 0:
                    state.mappings.pop(key, None)
                    state.count("natpmp delete " + key)
                    eport = 0
                else:
                    life = min(life, max_lifetime)
                    eport = iport + port_offset
                    state.mappings[key] = {"client": src[0], "internal_port": iport, "external_port": eport,
                                           "description": "",
                                           "lease": life, "method": "NAT-PMP", "expires": time.time() + life}
                    state.count("natpmp map " + key)
                s.sendto(struct.pack("!BBHIHHI", 0, 128 + op, 0, epoch, iport, eport, life), src)
            state.save()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ip", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--external", default="198.51.100.7")
    ap.add_argument("--http_port", type=int, default=0)
    ap.add_argument("--upnp", action="store_true")
    ap.add_argument("--natpmp", action="store_true")
    ap.add_argument("--max_lifetime", type=int, default=3600)
    ap.add_argument("--port_offset", type=int, default=0, help="NAT-PMP: external port = internal + this")
    a = ap.parse_args()
    state = State(a.state, a.external)
    threads = []
    if a.upnp:
        httpd = ThreadingHTTPServer((a.ip, a.http_port), None)
        port = httpd.server_address[1]
        httpd.RequestHandlerClass = make_handler(state, a.ip, port)
        threads.append(threading.Thread(target=httpd.serve_forever, daemon=True))
        threads.append(threading.Thread(target=ssdp_loop, args=(state, a.ip, port), daemon=True))
    if a.natpmp:
        threads.append(threading.Thread(target=natpmp_loop, args=(state, a.ip, a.max_lifetime, a.port_offset), daemon=True))
    for t in threads:
        t.start()
    with state.lock:
        state.save()
    print("fake gateway ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
