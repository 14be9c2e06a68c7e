// The group call (templates/groups/_call_stage.html), through Janus's VideoRoom with Debian's janus.js.
//
// This page publishes one stream (sound, and video when the person agreed to it) with the short-lived token from
// Rapport's media endpoint (POST /api/v1/groups/<id>/media/), and subscribes to everyone else, one handle each.
// If the connection drops (Janus lost, ICE failed, Janus restarted) it asks the media endpoint again (which
// recreates the room if Janus lost it, re-issues the token if it expired, and kicks this person's stale feed)
// and joins again, waiting a little longer each time. If group video is not available it says so, with the
// numbers to phone, and keeps trying; it never just spins. docs/groups.md.
const stage = document.getElementById("group-call");
const Janus = window.Janus;

if (stage && !Janus) {
  // janus.js is not installed on this server: say so, with the numbers to phone (never a spinner).
  document.getElementById("group-call-status").textContent = "Group video cannot start on this server.";
  const unavailable = document.getElementById("group-unavailable");
  if (unavailable) unavailable.hidden = false;
}

if (stage && Janus) {
  const PLUGIN = "janus.plugin.videoroom";
  const mediaUrl = stage.dataset.mediaUrl;
  const statusUrl = stage.dataset.statusUrl;
  const roomUrl = stage.dataset.roomUrl;
  const every = Math.max(1, Number(stage.dataset.pollSeconds || 3)) * 1000;
  const display = stage.dataset.display || "";
  const status = document.getElementById("group-call-status");
  const alertBox = document.getElementById("group-call-alert");
  const unavailable = document.getElementById("group-unavailable");
  const grid = document.getElementById("group-videos");
  const empty = document.getElementById("group-empty");
  const selfVideo = document.getElementById("group-self-video");
  const selfState = document.getElementById("group-self-state");
  const cameraState = document.getElementById("group-camera-state");
  const mutedAll = document.getElementById("group-muted-all");
  const videoButton = document.getElementById("group-toggle-video");
  const audioButton = document.getElementById("group-toggle-audio");
  const layoutButton = document.getElementById("group-toggle-layout");

  let wantVideo = stage.dataset.video === "yes";
  let generation = 0; // bumped on every (re)connect: callbacks of an older session are ignored
  let session = null;
  let publisher = null;
  let privateId = null;
  let room = null;
  let token = null;
  let ownFeed = null;
  let backoff = 1000;
  let reconnectTimer = null;
  let iceTimer = null;
  let leaving = false;
  let micOff = false;
  let cameraOff = false;
  let speakerFeed = null;
  const feeds = new Map(); // feed id -> {handle, tile, video, stream, name}

  const say = (text) => { if (status.textContent !== text) status.textContent = text; };
  const problem = (text) => { alertBox.textContent = text; };

  // janus.js asks for webrtc-adapter's browser details only; Rapport does not ship adapter.js.
  function browserDetails() {
    const agent = navigator.userAgent;
    const firefox = agent.match(/Firefox\/(\d+)/);
    if (firefox) return { browser: "firefox", version: Number(firefox[1]) };
    const chrome = agent.match(/Chrom(?:e|ium)\/(\d+)/);
    if (chrome) return { browser: "chrome", version: Number(chrome[1]) };
    const safari = agent.match(/Version\/(\d+).*Safari/);
    if (safari) return { browser: "safari", version: 605 };
    return { browser: "chrome", version: 100 };
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function showUnavailable(shown) {
    if (!unavailable) return;
    const was = !unavailable.hidden;
    unavailable.hidden = !shown;
    if (shown && !was) unavailable.querySelector("h2")?.focus();
  }

  function updateEmpty() {
    empty.hidden = feeds.size > 0;
    if (grid.dataset.layout === "speaker") chooseSpeaker(speakerFeed);
  }

  function chooseSpeaker(feedId) {
    const ids = [...feeds.keys()];
    speakerFeed = feeds.has(feedId) ? feedId : (ids[0] ?? null);
    for (const [id, feed] of feeds) {
      const large = id === speakerFeed;
      feed.tile.classList.toggle("tile-speaker", large);
      feed.pin.setAttribute("aria-pressed", String(large));
    }
  }

  function tileFor(feedId, name) {
    let feed = feeds.get(feedId);
    if (feed) return feed;
    const tile = document.createElement("li");
    tile.className = "tile";
    tile.dataset.feed = String(feedId);
    const video = document.createElement("video");
    video.className = "video";
    video.autoplay = true;
    video.playsInline = true;
    video.setAttribute("aria-label", `${name}’s picture and sound`);
    const caption = document.createElement("p");
    caption.className = "tile-caption";
    const label = document.createElement("span");
    label.className = "tile-name";
    label.textContent = name;
    const pin = document.createElement("button");
    pin.type = "button";
    pin.className = "button button-control tile-pin";
    pin.setAttribute("aria-pressed", "false");
    pin.textContent = `Show ${name} large`;
    pin.addEventListener("click", () => {
      grid.dataset.layout = "speaker";
      layoutButton.setAttribute("aria-pressed", "true");
      layoutButton.textContent = "Show everyone the same size";
      chooseSpeaker(feedId);
    });
    caption.append(label, pin);
    tile.append(video, caption);
    grid.append(tile);
    feed = { handle: null, tile, video, pin, stream: new MediaStream(), name };
    video.srcObject = feed.stream;
    feeds.set(feedId, feed);
    updateEmpty();
    return feed;
  }

  function play(video) {
    const started = video.play();
    if (started && started.catch) {
      started.catch(() => {
        // The browser wants a click before it plays sound: offer one (never a silent dead end).
        let button = document.getElementById("group-play-sound");
        if (!button) {
          button = document.createElement("button");
          button.type = "button";
          button.id = "group-play-sound";
          button.className = "button";
          button.textContent = "Play the group’s sound and video";
          button.addEventListener("click", () => {
            for (const feed of feeds.values()) feed.video.play().catch(() => {});
            button.remove();
          });
          stage.insertBefore(button, grid);
        }
      });
    }
  }

  function dropFeed(feedId) {
    const feed = feeds.get(feedId);
    if (!feed) return;
    feeds.delete(feedId);
    try { feed.handle?.detach(); } catch { /* already gone */ }
    feed.tile.remove();
    updateEmpty();
  }

  function teardown() {
    generation += 1;
    clearTimeout(iceTimer);
    for (const id of [...feeds.keys()]) dropFeed(id);
    publisher = null;
    privateId = null;
    if (session) {
      try { session.destroy({ cleanupHandles: true, notifyDestroyed: false }); } catch { /* already gone */ }
    }
    session = null;
  }

  function reconnect(why) {
    if (leaving || reconnectTimer) return;
    teardown();
    say(`${why} Joining the group again…`);
    reconnectTimer = setTimeout(() => { reconnectTimer = null; connect(); }, backoff);
    backoff = Math.min(backoff * 2, 8000);
  }

  function goToWaitingRoom() {
    leaving = true;
    teardown();
    if (roomUrl) window.location.assign(roomUrl);
    else window.location.reload();
  }

  async function connect() {
    const mine = generation;
    problem("");
    let media;
    try {
      const response = await fetch(mediaUrl, {
        method: "POST", credentials: "same-origin",
        headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      });
      media = await response.json();
      if (!response.ok) {
        if (media.code === "groups_unavailable") {
          showUnavailable(true);
          say("Group video is not working at the moment. This page keeps trying.");
          reconnectTimer = setTimeout(() => { reconnectTimer = null; connect(); }, 5000);
          return;
        }
        if (media.code === "not_admitted" || media.code === "not_started" || response.status === 404 || response.status === 403) {
          goToWaitingRoom();
          return;
        }
        throw new Error(media.detail || String(response.status));
      }
    } catch {
      reconnect("We cannot reach Rapport at the moment.");
      return;
    }
    if (mine !== generation) return;
    showUnavailable(false);
    room = media.room;
    token = media.token;
    ownFeed = media.feed_id;
    wantVideo = wantVideo && media.video !== false;
    session = new Janus({
      server: media.server,
      token: media.token,
      iceServers: media.ice_servers || [],
      success: () => { if (mine === generation) attachPublisher(media, mine); },
      error: (reason) => {
        if (mine !== generation) return;
        reconnect(`The connection to the group was lost (${reason}).`);
      },
      destroyed: () => {},
    });
  }

  function attachPublisher(media, mine) {
    session.attach({
      plugin: PLUGIN,
      success: (handle) => {
        if (mine !== generation) return;
        publisher = handle;
        handle.send({ message: { request: "join", room: media.room, ptype: "publisher", id: media.feed_id, display, token: media.token } });
      },
      error: () => reconnect("The group video service refused the connection."),
      iceState: (state) => {
        if (mine !== generation) return;
        clearTimeout(iceTimer);
        // "disconnected" may mend itself; if it has not within a few seconds (Janus restarted: its sessions and
        // rooms are gone, and janus.js's long poll does not say so), join again.
        if (state === "failed") reconnect("The connection to the group was lost.");
        else if (state === "disconnected") iceTimer = setTimeout(() => { if (mine === generation) reconnect("The connection to the group was lost."); }, 4000);
      },
      webrtcState: (on) => {
        if (mine !== generation) return;
        if (on) {
          backoff = 1000;
          say(feeds.size ? "You are in the group." : "You are in the group. Waiting for others to join.");
        }
      },
      onlocaltrack: (track, on) => {
        if (mine !== generation || track.kind !== "video") return;
        const stream = selfVideo.srcObject instanceof MediaStream ? selfVideo.srcObject : new MediaStream();
        if (on) {
          for (const old of stream.getVideoTracks()) stream.removeTrack(old);
          stream.addTrack(track);
          selfVideo.srcObject = stream;
          selfVideo.play().catch(() => {});
        } else {
          stream.removeTrack(track);
        }
      },
      onmessage: (message, jsep) => {
        if (mine !== generation) return;
        onPublisherMessage(message, jsep, mine);
      },
    });
  }

  function onPublisherMessage(message, jsep, mine) {
    const event = message.videoroom;
    if (event === "joined") {
      privateId = message.private_id;
      say("You are in the group.");
      publish();
      for (const other of message.publishers || []) subscribe(other, mine);
    } else if (event === "destroyed") {
      goToWaitingRoom(); // the facilitator ended the group
      return;
    } else if (event === "event") {
      for (const other of message.publishers || []) subscribe(other, mine);
      if (message.leaving === "ok" && message.reason === "kicked") {
        goToWaitingRoom(); // removed or held by the facilitator: the waiting room says which
        return;
      }
      const gone = message.leaving ?? message.unpublished ?? message.kicked;
      if (gone !== undefined && gone !== "ok") dropFeed(gone);
      if (message.error_code) {
        // 436: a stale copy of this person is still in the room; 433: the token was refused (expired).
        reconnect(`Joining the group did not work (${message.error_code}: ${message.error}).`);
        return;
      }
    }
    if (jsep) publisher.handleRemoteJsep({ jsep });
  }

  function publish() {
    const tracks = [{ type: "audio", capture: true, recv: false }];
    if (wantVideo) tracks.push({ type: "video", capture: true, recv: false });
    publisher.createOffer({
      tracks,
      success: (jsep) => {
        publisher.send({ message: { request: "configure", audio: true, video: wantVideo }, jsep });
        cameraState.hidden = false;
        cameraState.textContent = wantVideo ? "Your camera and microphone are on." : "Your microphone is on.";
        if (micOff) publisher.muteAudio();
        if (cameraOff && wantVideo) publisher.muteVideo();
      },
      error: () => {
        problem("We cannot use your camera or microphone. You can still see and hear the group. Check your browser allows this site to use them, then reload the page.");
      },
    });
  }

  function subscribe(other, mine) {
    const feedId = other.id;
    if (!feedId || feedId === ownFeed) return;
    // A feed announced again has published again (a rejoin): its old subscription is dead.
    if (feeds.has(feedId)) dropFeed(feedId);
    const feed = tileFor(feedId, other.display || "Someone");
    session.attach({
      plugin: PLUGIN,
      success: (handle) => {
        if (mine !== generation) { handle.detach(); return; }
        feed.handle = handle;
        handle.send({ message: { request: "join", room, ptype: "subscriber", streams: [{ feed: feedId }], private_id: privateId, token } });
      },
      error: () => dropFeed(feedId),
      onmessage: (message, jsep) => {
        if (mine !== generation || !feed.handle) return;
        if (message.error_code) { dropFeed(feedId); return; }
        if (jsep) {
          feed.handle.createAnswer({
            jsep,
            tracks: [{ type: "data" }],
            success: (answer) => feed.handle.send({ message: { request: "start", room }, jsep: answer }),
            error: () => problem(`We could not show ${feed.name}’s picture.`),
          });
        }
      },
      onremotetrack: (track, mid, on) => {
        if (mine !== generation) return;
        if (on) {
          for (const old of feed.stream.getTracks()) if (old.kind === track.kind && old !== track) feed.stream.removeTrack(old);
          if (!feed.stream.getTracks().includes(track)) feed.stream.addTrack(track);
          feed.video.srcObject = feed.stream;
          play(feed.video);
        } else {
          feed.stream.removeTrack(track);
        }
      },
    });
  }

  // --- Controls -----------------------------------------------------------------------------------
  function setMic(off) {
    micOff = off;
    if (publisher) (off ? publisher.muteAudio() : publisher.unmuteAudio());
    audioButton.setAttribute("aria-pressed", String(off));
    audioButton.dataset.off = String(off);
    audioButton.textContent = off ? "Unmute my microphone" : "Mute my microphone";
    selfState.textContent = [off ? "Microphone off" : "", cameraOff ? "Camera off" : ""].filter(Boolean).join(", ");
  }
  audioButton.addEventListener("click", () => setMic(!micOff));

  if (videoButton) {
    videoButton.addEventListener("click", () => {
      cameraOff = !cameraOff;
      if (publisher) (cameraOff ? publisher.muteVideo() : publisher.unmuteVideo());
      videoButton.setAttribute("aria-pressed", String(cameraOff));
      videoButton.dataset.off = String(cameraOff);
      videoButton.textContent = cameraOff ? "Turn my camera on" : "Turn my camera off";
      selfState.textContent = [micOff ? "Microphone off" : "", cameraOff ? "Camera off" : ""].filter(Boolean).join(", ");
    });
  }

  layoutButton.addEventListener("click", () => {
    const speaker = grid.dataset.layout !== "speaker";
    grid.dataset.layout = speaker ? "speaker" : "grid";
    layoutButton.setAttribute("aria-pressed", String(speaker));
    layoutButton.textContent = speaker ? "Show everyone the same size" : "Show speaker view";
    if (speaker) chooseSpeaker(speakerFeed);
    else for (const feed of feeds.values()) { feed.tile.classList.remove("tile-speaker"); feed.pin.setAttribute("aria-pressed", "false"); }
  });

  // --- The attendee's own place: removed, held or the group ended -> the waiting room; mute all shown -----
  let wasMutedAll = false;
  async function poll() {
    try {
      const response = await fetch(statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" });
      if (response.ok && !response.redirected) {
        const state = await response.json();
        if (state.state !== "admitted" || state.group_status !== "in_progress") {
          goToWaitingRoom();
          return;
        }
        mutedAll.hidden = !state.muted_all;
        if (state.muted_all && !wasMutedAll) setMic(true);
        wasMutedAll = state.muted_all;
      }
    } catch {
      // Rapport unreachable: the call may still work through Janus; try again.
    }
    setTimeout(poll, every);
  }

  Janus.init({
    debug: false,
    dependencies: Janus.useDefaultDependencies({ adapter: { browserDetails: browserDetails() } }),
    callback: () => {
      if (!Janus.isWebrtcSupported()) {
        problem("This browser cannot make video calls. Use a recent Chrome, Edge, Firefox or Safari, or phone the team.");
        return;
      }
      connect();
      if (statusUrl) setTimeout(poll, every);
    },
  });
  window.addEventListener("pagehide", () => { leaving = true; });
}
