#!/usr/bin/python3
"""A real OS drag source for the end-to-end test: a small GTK 3 window offering the files
given on the command line as text/uri-list. run.sh's e2e step starts it, then xdotool
presses on it, moves onto Trove's window and releases, so the files arrive through the
app's real drop handler (X11 XDND under Xvfb). Prints "ready" when the window is mapped;
exits after the drop ends (or after 60 s)."""
import sys
from pathlib import Path

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

uris = [Path(p).resolve().as_uri() for p in sys.argv[1:]]
win = Gtk.Window(title="trove-e2e-drag-source")
win.set_decorated(False)
win.set_default_size(160, 80)
win.move(1100, 700)
box = Gtk.EventBox()
box.add(Gtk.Label(label="drag me"))
win.add(box)
box.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
box.drag_source_add_uri_targets()


def on_get(_w, _ctx, data, _info, _time):
    data.set_uris(uris)


box.connect("drag-data-get", on_get)
box.connect("drag-end", lambda *_: GLib.timeout_add(500, Gtk.main_quit))
win.connect("map-event", lambda *_: (print("ready", flush=True), False)[1])
GLib.timeout_add_seconds(60, Gtk.main_quit)
win.show_all()
Gtk.main()
