/// The console's only stylesheet, served at /console/style.css (no inline style, so the pages'
/// Content-Security-Policy can forbid it). Narrow screens get one column and scrolling tables.
enum Stylesheet {
    /// The tab's icon: three bars of a meter.
    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect x="1" y="9" width="4" height="6" fill="#2463a6"/><rect x="6" y="5" width="4" height="10" fill="#2463a6"/><rect x="11" y="1" width="4" height="14" fill="#2463a6"/></svg>

        """

    static let text = """
        :root { --ink: #1d2733; --muted: #5c6b7a; --line: #d9e0e7; --accent: #2463a6; --grace: #e8a33d; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--ink); background: #f7f9fb; }
        header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .6rem 1rem; background: #fff; border-bottom: 1px solid var(--line); }
        header nav { display: flex; flex-wrap: wrap; gap: .8rem; flex: 1; }
        header form { margin: 0; }
        a { color: var(--accent); }
        main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
        h1 { font-size: 1.35rem; margin: .4rem 0 1rem; }
        h2 { font-size: 1.1rem; margin: 1.6rem 0 .6rem; }
        .periods { display: flex; gap: 1rem; margin-bottom: 1rem; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; background: #fff; }
        th, td { padding: .35rem .6rem; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        tr.total td { font-weight: 600; border-top: 2px solid var(--ink); }
        .muted { color: var(--muted); }
        .plot { background: #fff; border: 1px solid var(--line); margin: .4rem 0 1rem; max-width: 100%; height: auto; }
        .plot rect.bar { fill: var(--accent); }
        .plot text { font: 11px system-ui, sans-serif; fill: var(--muted); }
        .plot line { stroke: var(--line); }
        .timeline rect.span { fill: #eef2f6; }
        .timeline rect.presence.viewer { fill: #7fa7d3; }
        .timeline rect.presence.moderator { fill: var(--accent); }
        .timeline rect.stretch.admin, .key.admin { fill: #1b3f66; background: #1b3f66; }
        .timeline rect.stretch.admin-present, .key.admin-present { fill: #2f8f4e; background: #2f8f4e; }
        .timeline rect.stretch.grace, .key.grace { fill: var(--grace); background: var(--grace); }
        .timeline rect.stretch.no-admin, .key.no-admin, .timeline rect.stretch.not-counted { fill: #b9c2cc; background: #b9c2cc; }
        .timeline rect.stretch.whiteboard, .key.whiteboard { fill: #7b4fb3; background: #7b4fb3; }
        .timeline rect.stretch.background-pause, .key.background-pause { fill: #d9c8ee; background: #d9c8ee; }
        .timeline circle.mark, .key.mark { fill: #fff; stroke: var(--ink); stroke-width: 1.5; background: #fff; border: 1.5px solid var(--ink); border-radius: 50%; }
        .timeline a:focus circle.mark, .timeline a:hover circle.mark { fill: var(--grace); }
        .plots { display: flex; flex-wrap: wrap; gap: .5rem; }
        .plots .plot { flex: 1 1 18rem; margin: 0; }
        h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
        pre.line { white-space: pre-wrap; word-break: break-all; background: #fff; border: 1px solid var(--line); padding: .6rem; font-size: .85rem; }
        #record th { width: 10rem; }
        #record td { white-space: normal; word-break: break-word; }
        .state.current { color: #2f8f4e; } .state.silent { color: #a3262a; font-weight: 600; } .state.catching-up { color: #9a5d00; }
        .legend { font-size: .85rem; color: var(--muted); }
        .key { display: inline-block; width: .9rem; height: .6rem; margin: 0 .2rem 0 .6rem; }
        form.login { display: flex; flex-direction: column; gap: .6rem; max-width: 24rem; }
        input[type=password] { padding: .5rem; font: inherit; }
        button { font: inherit; padding: .35rem .8rem; }
        p.error { color: #a3262a; }
        @media (max-width: 40rem) { main { padding: .5rem; } th, td { padding: .3rem .4rem; } }

        """
}
