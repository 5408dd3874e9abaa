"""kit/sync: learners' progress out, content in, by USB stick or over a flaky link.

The flow: `bundle` turns the events another server lacks into a signed `.kitsync` file (laid
out by `strictzip`) and merges such files back in one transaction; `peers` remembers what each
peer holds and was sent; `scope` decides what of a district's log each school holds (its own
learners and classes only); `enrol` exchanges keys; `usb` does a coordinator's visit in one step;
`transfers` (the hub's side) and `client` (the school's) move bundles and packs over HTTP in
resumable chunks, each request signed by the device key and each answer by the hub's (`auth`),
so neither side uses a byte the other did not sign; the endpoints themselves are kit/server/hub.py,
and nothing here knows the web. Events come from and go to the core's log (kit.core.eventlog);
packs are installed only through kit.content.install.
"""
