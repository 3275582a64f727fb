//! Issue 17's friction item "a navigation that fits": at 1280 px the main
//! navigation is one line (pages grouped into Work, Team and Settings menus
//! that open without JavaScript and by keyboard); every page of the former
//! bar is still one menu away; on a phone all of it sits behind a Menu
//! button.

use crate::harness::Browser;
use crate::team::setup;
use crate::work::sign_in;
use fantoccini::key::Key;
use serde_json::Value;

/// Every page of the former bar, with what its page says.
const PAGES: &[(&str, &str)] = &[
    ("/", "Hello"),
    ("/clients", "Clients"),
    ("/backlog", "Backlog"),
    ("/reports", "Reports"),
    ("/leads/assignment", "Lead assignment"),
    ("/groups", "groups"),
    ("/content", "Content"),
    ("/members", "Members"),
    ("/teams", "Teams"),
    ("/roles", "Roles"),
    ("/availability", "availability"),
    ("/account", "Account"),
    ("/billing", "Billing"),
    ("/audit", "Audit log"),
    ("/security", "Security"),
];

/// (height of the nav, height of one link, distinct tops of the bar's items).
async fn nav_box(b: &Browser) -> (f64, f64, Vec<f64>) {
    let v =
        b.c.execute(
            "const nav = document.querySelector('nav.main-nav');
             const link = nav.querySelector('.nav-bar > li > a');
             const tops = [...nav.querySelectorAll('.nav-bar > li')]
               .map(li => Math.round(li.getBoundingClientRect().top));
             return [nav.getBoundingClientRect().height, link.getBoundingClientRect().height,
                     [...new Set(tops)]];",
            vec![],
        )
        .await
        .unwrap();
    let f = |x: &Value| x.as_f64().unwrap();
    (
        f(&v[0]),
        f(&v[1]),
        v[2].as_array().unwrap().iter().map(f).collect(),
    )
}

/// The header on a phone: its height, and the rows its visible items stand
/// in (each row its items' classes from left to right; a new row where an
/// item starts below the bottom of the row before).
async fn header_rows(b: &Browser) -> (f64, Vec<(f64, Vec<String>)>) {
    let v =
        b.c.execute(
            "const header = document.querySelector('header.site-header');
             const items = [...header.querySelectorAll(
                 '.brand, .account-name, .bell, .nav-button, .signout button')]
               .filter(e => e.checkVisibility())
               .map(e => [e.getBoundingClientRect(), e.className.split(' ')[0]])
               .sort((a, b) => a[0].top - b[0].top);
             const rows = [];
             for (const [r, name] of items) {
               const last = rows[rows.length - 1];
               if (last && r.top < last.bottom) {
                 last.bottom = Math.max(last.bottom, r.bottom);
                 last.items.push([r.left, name]);
               } else {
                 rows.push({bottom: r.bottom, top: r.top, items: [[r.left, name]]});
               }
             }
             return [header.getBoundingClientRect().height,
                     rows.map(r => [r.bottom - r.top,
                                    r.items.sort((a, b) => a[0] - b[0]).map(i => i[1])])];",
            vec![],
        )
        .await
        .unwrap();
    let rows = v[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let names = r[1].as_array().unwrap();
            (
                r[0].as_f64().unwrap(),
                names
                    .iter()
                    .map(|n| n.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect();
    (v[0].as_f64().unwrap(), rows)
}

/// Elements that reach beyond the page's width (left of 0 or right of
/// `document.documentElement.clientWidth`), those inside a box that clips
/// or scrolls its overflow aside, and the page's own scroll width.
async fn overflowing(b: &Browser) -> (Vec<String>, f64, f64) {
    let v =
        b.c.execute(
            "const cw = document.documentElement.clientWidth;
             const clipped = e => {
               for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
                 if (getComputedStyle(p).overflowX !== 'visible') return true;
               }
               return false;
             };
             const out = [...document.body.querySelectorAll('*')].filter(e => {
               const r = e.getBoundingClientRect();
               return r.width > 0 && r.height > 0 && (r.right > cw + 0.5 || r.left < -0.5)
                 && e.checkVisibility() && !clipped(e);
             }).map(e => e.tagName.toLowerCase() + '.' + e.className + ' ' +
                         Math.round(e.getBoundingClientRect().right));
             return [out, cw, document.documentElement.scrollWidth];",
            vec![],
        )
        .await
        .unwrap();
    (
        v[0].as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect(),
        v[1].as_f64().unwrap(),
        v[2].as_f64().unwrap(),
    )
}

async fn shown(b: &Browser, css: &str) -> bool {
    b.visible(css).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue17_the_navigation_fits_one_line_at_1280_px_and_a_menu_button_on_a_phone() {
    let test = "issue17_the_navigation_fits_one_line_at_1280_px_and_a_menu_button_on_a_phone";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    app.signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    b.resize(1280, 900).await;
    sign_in(&b, "ann@example.com").await;
    b.wait_text("h1", "Hello").await;

    // One line: every item of the bar on the same top, the bar one link high.
    let (height, link, tops) = nav_box(&b).await;
    assert_eq!(tops.len(), 1, "the bar wraps: item tops {tops:?}");
    assert!(height < link * 1.5, "nav {height}px high, a link {link}px");
    assert!(
        !shown(&b, "nav.main-nav .nav-button").await,
        "no Menu button on a desktop"
    );
    b.shot("desktop-nav").await;

    // Every former page is reachable: a link, or one menu away.
    for (href, h1) in PAGES {
        b.goto("/security").await;
        b.wait_text("h1", "Security").await;
        b.nav(href).await;
        b.wait_text("h1", h1).await;
        // (My availability is the page of one's own member.)
        let at = b.path_now().await;
        assert!(at == *href || at.ends_with(href), "{href} led to {at}");
    }
    // The menu holding the page shown is marked, and its link is current.
    b.goto("/roles").await;
    b.wait_text("h1", "Roles").await;
    assert_eq!(
        b.attr("nav.main-nav a[href='/roles']", "aria-current")
            .await
            .as_deref(),
        Some("page")
    );
    assert!(
        b.text("details[data-nav-group] > summary.current")
            .await
            .contains("Team")
    );

    // By keyboard: Enter opens a menu, Tab reaches its first page, Enter follows it.
    let team = "//nav[contains(@class,'main-nav')]//details[@data-nav-group][.//a[@href='/members']]/summary";
    let summary = b.c.find(fantoccini::Locator::XPath(team)).await.unwrap();
    summary.send_keys(&Key::Enter).await.unwrap();
    assert!(
        shown(&b, "nav.main-nav a[href='/members']").await,
        "Enter opens the menu"
    );
    b.shot("desktop-menu-open").await;
    // Escape closes it again, focus back on its name.
    b.c.active_element()
        .await
        .unwrap()
        .send_keys(&Key::Escape)
        .await
        .unwrap();
    assert!(
        !shown(&b, "nav.main-nav a[href='/members']").await,
        "Escape closes it"
    );
    let focused = b.c.active_element().await.unwrap().text().await.unwrap();
    assert!(focused.contains("Team"), "focus on {focused:?}");
    summary.send_keys(&Key::Enter).await.unwrap();
    b.c.active_element()
        .await
        .unwrap()
        .send_keys(&Key::Tab)
        .await
        .unwrap();
    let focused = b.c.active_element().await.unwrap();
    assert_eq!(
        focused.attr("href").await.unwrap().as_deref(),
        Some("/members")
    );
    focused.send_keys(&Key::Enter).await.unwrap();
    b.wait_path("/members").await;
    // Opening one menu closes another; a click elsewhere closes it.
    b.nav("/billing").await;
    b.wait_path("/billing").await;
    let work = "//nav[contains(@class,'main-nav')]//details[@data-nav-group][.//a[@href='/reports']]/summary";
    let settings = "//nav[contains(@class,'main-nav')]//details[@data-nav-group][.//a[@href='/audit']]/summary";
    b.c.find(fantoccini::Locator::XPath(work))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.c.find(fantoccini::Locator::XPath(settings))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(!shown(&b, "nav.main-nav a[href='/reports']").await);
    assert!(shown(&b, "nav.main-nav a[href='/audit']").await);
    b.click("main h1").await;
    assert!(!shown(&b, "nav.main-nav a[href='/audit']").await);

    // A phone: a Menu button, and behind it every page, under its menu's name.
    b.resize(390, 844).await;
    b.goto("/").await;
    b.wait_text("h1", "Hello").await;
    // The header is two rows: the brand, the account and the bell; then the
    // Menu button and Sign out.
    let (height, rows) = header_rows(&b).await;
    let names: Vec<&Vec<String>> = rows.iter().map(|(_, n)| n).collect();
    assert_eq!(
        names,
        [
            &vec!["brand".to_owned(), "account-name".into(), "bell".into()],
            &vec!["nav-button".to_owned(), "button-quiet".into()],
        ],
        "the phone's header rows"
    );
    let tallest = rows.iter().map(|(h, _)| *h).fold(0.0, f64::max);
    assert!(
        height <= 2.0 * tallest + 40.0,
        "the header is {height}px high, its rows {rows:?}"
    );
    assert!(shown(&b, "nav.main-nav .nav-button").await);
    assert!(!shown(&b, "nav.main-nav a[href='/clients']").await);
    b.shot("phone-nav-closed").await;
    b.click("nav.main-nav .nav-button").await;
    for (href, _) in PAGES {
        assert!(
            shown(&b, &format!("nav.main-nav a[href='{href}']")).await,
            "{href} is not listed behind the Menu button"
        );
    }
    b.shot("phone-nav-open").await;
    b.click("nav.main-nav a[href='/teams']").await;
    b.wait_path("/teams").await;
    b.nav("/audit").await;
    b.wait_path("/audit").await;
    b.shot("phone-audit").await;

    // At 360 px nothing reaches beyond the page's width, on any page of the
    // navigation, nor with the menu open.
    b.resize(360, 800).await;
    for (href, h1) in PAGES {
        b.goto(href).await;
        b.wait_text("h1", h1).await;
        let (out, width, scroll) = overflowing(&b).await;
        assert!(
            out.is_empty() && scroll <= width,
            "{href} at 360 px: page {scroll}px wide in {width}px; beyond it: {out:?}"
        );
    }
    b.goto("/").await;
    b.wait_text("h1", "Hello").await;
    let (_, rows) = header_rows(&b).await;
    assert_eq!(rows.len(), 2, "at 360 px the header is two rows: {rows:?}");
    b.shot("phone-360-home").await;
    b.click("nav.main-nav .nav-button").await;
    let (out, width, scroll) = overflowing(&b).await;
    assert!(
        out.is_empty() && scroll <= width,
        "the open menu at 360 px: page {scroll}px wide in {width}px; beyond it: {out:?}"
    );
    b.shot("phone-360-menu-open").await;
    b.finish().await;
    app.stop().await;
}
