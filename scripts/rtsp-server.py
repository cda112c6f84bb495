#!/usr/bin/python3
"""A real RTSP camera for tests: GStreamer's RTSP server publishing a video file in a loop.

Run with the system python (/usr/bin/python3: the GStreamer bindings `gi` live there):
    /usr/bin/python3 scripts/rtsp-server.py --port 8554 --file clip.mp4 [--path /cam] [--user U --password P]
Prints one line `ready rtsp://127.0.0.1:PORT/PATH` on stdout once it listens. Only the file's
H.264 video goes out (no re-encode); an audio track is ignored. Each client gets its own
pipeline (set_shared(False)); at the end of the file the pipeline seeks back to 0 and shifts
timestamps by the pass length, so the stream never ends and its timestamps keep rising.
"""
import argparse
import signal
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def make_looper(element):
    """Pad probe for h264parse's sink pad: EOS → seek qtdemux to 0 and extend the pad offset."""
    state = {'offset': 0, 'last_end': 0, 'looping': False}

    def probe(pad, info):
        if info.type & Gst.PadProbeType.BUFFER:
            buf = info.get_buffer()
            if buf.pts != Gst.CLOCK_TIME_NONE:
                dur = buf.duration if buf.duration != Gst.CLOCK_TIME_NONE else 0
                state['last_end'] = max(state['last_end'], buf.pts + dur)
            return Gst.PadProbeReturn.OK
        if info.type & Gst.PadProbeType.EVENT_DOWNSTREAM:
            ev = info.get_event()
            if ev.type == Gst.EventType.EOS:
                # The length of the pass just played, so the next pass continues the timeline.
                state['offset'] += state['last_end']
                state['last_end'] = 0
                state['looping'] = True

                def seek():
                    # Offset first: buffers of the new pass may flow as soon as the seek starts.
                    pad.set_offset(state['offset'])
                    demux = element.get_by_name('demux')
                    demux.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT, 0)
                    return False

                GLib.idle_add(seek)
                return Gst.PadProbeReturn.DROP
            if ev.type in (Gst.EventType.FLUSH_START, Gst.EventType.FLUSH_STOP) and state['looping']:
                # Flushes caused by our loop seek: passing them on would reset the RTP timeline.
                # (The server's own preroll seek flushes too; those must go through.)
                if ev.type == Gst.EventType.FLUSH_STOP:
                    state['looping'] = False
                return Gst.PadProbeReturn.DROP
        return Gst.PadProbeReturn.OK

    return probe


class LoopFactory(GstRtspServer.RTSPMediaFactory):
    def __init__(self, path):
        super().__init__()
        loc = path.replace('\\', '\\\\').replace('"', '\\"')
        self.set_launch(
            f'( filesrc location="{loc}" ! qtdemux name=demux demux.video_0 ! h264parse name=parse '
            f'! rtph264pay name=pay0 pt=96 config-interval=-1 )')
        self.set_shared(False)
        # The signal, not a do_configure override: the parent's configure must still run.
        self.connect('media-configure', self._on_media_configure)

    @staticmethod
    def _on_media_configure(_factory, media):
        element = media.get_element()
        parse = element.get_by_name('parse')
        parse.get_static_pad('sink').add_probe(
            Gst.PadProbeType.BUFFER | Gst.PadProbeType.EVENT_DOWNSTREAM | Gst.PadProbeType.EVENT_FLUSH,
            make_looper(element))


def main():
    ap = argparse.ArgumentParser(description='Loop a video file as an RTSP camera (GStreamer).')
    ap.add_argument('--port', type=int, default=8554)
    ap.add_argument('--file', required=True, help='an MP4 with an H.264 video track')
    ap.add_argument('--path', default='/cam', help='mount point (default /cam)')
    ap.add_argument('--user')
    ap.add_argument('--password')
    ap.add_argument('--host', default='127.0.0.1')
    a = ap.parse_args()
    if bool(a.user) != bool(a.password):
        ap.error('--user and --password go together')

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(a.host)
    server.set_service(str(a.port))
    factory = LoopFactory(a.file)
    mount = a.path if a.path.startswith('/') else '/' + a.path

    if a.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, 'user')
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(a.user, a.password), token)
        server.set_auth(auth)
        perms = GstRtspServer.RTSPPermissions()
        perms.add_permission_for_role('user', GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
        perms.add_permission_for_role('user', GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
        factory.set_permissions(perms)

    server.get_mount_points().add_factory(mount, factory)
    if server.attach(None) == 0:
        print(f'error: cannot listen on {a.host}:{a.port}', file=sys.stderr, flush=True)
        sys.exit(2)

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print(f'ready rtsp://{a.host}:{server.get_bound_port()}{mount}', flush=True)
    loop.run()


if __name__ == '__main__':
    main()
