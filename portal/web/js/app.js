// The portal's entry point: hash router, the signed-in shell (sidebar, acting
// banner) and the session's tenants.

import { api, session } from './api.js';
import { h, icon, initials, kindBadge, loadError, loadingRegion, toast } from './ui.js';
import * as auth from './pages/auth.js';
import * as dashboard from './pages/dashboard.js';
import * as apiKeys from './pages/api-keys.js';
import * as subTenants from './pages/tenants.js';
import * as branding from './pages/branding.js';
import * as videos from './pages/videos.js';
import * as playback from './pages/playback.js';
import * as billing from './pages/billing.js';
import * as catalog from './pages/catalog.js';

const canHaveSubTenants = (t) => t?.kind === 'platform' || t?.kind === 'reseller';

/** Routes with a parameter: a pattern and what it matches to. */
const paramRoutes = [
  { pattern: /^\/videos\/([^/]+)$/, keys: ['id'], title: 'Video', nav: 'videos', render: videos.renderDetail },
  { pattern: /^\/catalog\/([^/]+)$/, keys: ['id'], title: 'Title', nav: 'catalog', render: catalog.renderEditor },
];

function matchRoute(path) {
  if (routes[path]) return { route: routes[path], params: {} };
  for (const r of paramRoutes) {
    const m = path.match(r.pattern);
    if (m) return { route: r, params: Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])])) };
  }
  return { route: undefined, params: {} };
}

const routes = {
  '/login': { title: 'Log in', public: true, render: auth.renderLogin },
  '/signup': { title: 'Sign up', public: true, render: auth.renderSignup },
  '/dashboard': { title: 'Dashboard', nav: 'dashboard', render: dashboard.render },
  '/videos': { title: 'Videos', nav: 'videos', render: videos.render },
  '/catalog': { title: 'Catalog', nav: 'catalog', render: catalog.render },
  '/api-keys': { title: 'API keys', nav: 'api-keys', render: apiKeys.render },
  '/playback': { title: 'Playback', nav: 'playback', render: playback.render },
  '/tenants': { title: 'Sub-tenants', nav: 'tenants', render: subTenants.render, allowed: canHaveSubTenants },
  '/branding': { title: 'Branding', nav: 'branding', render: branding.render },
  '/billing': { title: 'Billing', nav: 'billing', render: billing.render },
};

/** What every page may read: the caller's own tenant and the one being acted on. */
export const state = {
  /** The tenant of the credentials. */
  home: null,
  /** The tenant the portal acts on: `home`, or a descendant chosen with "Act as". */
  tenant: null,
};

const root = document.getElementById('app');
let shell = null;
let firstRender = true;

export function navigate(path) {
  if (location.hash === `#${path}`) route();
  else location.hash = `#${path}`;
}

/** Starts acting as a descendant tenant (or stops, with null) and reloads the view. */
export async function actAs(tenant) {
  session.actAs(tenant);
  state.tenant = null;
  shell = null;
  if (tenant) toast(`Now acting as ${tenant.name}`);
  navigate('/dashboard');
}

export function signOut(message = 'You have been logged out.') {
  session.end();
  state.home = null;
  state.tenant = null;
  shell = null;
  toast(message, 'success');
  navigate('/login');
}

/** Reloads the tenant (after a change to it) and redraws the shell around the page. */
export async function refreshTenant() {
  await loadTenants();
  if (shell) updateShell();
}

async function loadTenants() {
  state.home = await api('GET', '/v1/tenant', { acting: false });
  if (!session.acting) {
    state.tenant = state.home;
    return;
  }
  try {
    state.tenant = await api('GET', '/v1/tenant');
  } catch (err) {
    if (err.status === 401) throw err;
    // The tenant was deleted or is no longer ours to act on: fall back quietly.
    const name = session.acting?.name ?? 'that tenant';
    session.actAs(null);
    state.tenant = state.home;
    toast(`Stopped acting as ${name}: ${err.message}`, 'danger');
  }
}

function currentPath() {
  const p = location.hash.replace(/^#/, '').split('?')[0];
  return p || '/';
}

async function route() {
  const path = currentPath();
  const { route: r, params } = matchRoute(path);
  if (!session.token) {
    if (!r?.public) { location.replace('#/login'); return; }
  } else if (!r || r.public) {
    location.replace('#/dashboard');
    return;
  }
  document.title = `${r.title} · Marquee`;

  if (r.public) {
    shell = null;
    const page = h('div', { class: 'page-auth' });
    root.replaceChildren(page);
    r.render(page, { navigate });
    focusHeading(page);
    return;
  }

  if (!shell || !state.tenant) {
    root.replaceChildren(h('div', { class: 'boot' }, loadingRegion('Loading your workspace', 4)));
    try {
      await loadTenants();
    } catch (err) {
      if (err.status === 401) return; // the signed-out handler moves us to #/login
      root.replaceChildren(h('div', { class: 'boot' }, loadError(err, () => route())));
      return;
    }
    buildShell();
  }
  if (r.allowed && !r.allowed(state.tenant)) {
    location.replace('#/dashboard');
    return;
  }
  updateShell(r.nav);
  const page = h('div', { class: 'page' });
  shell.main.replaceChildren(page);
  closeMenu();
  r.render(page, { state, navigate, refreshTenant, actAs, params });
  focusHeading(page);
}

function focusHeading(page) {
  if (firstRender) { firstRender = false; return; }
  // Move focus to the new page's heading so screen readers announce it.
  requestAnimationFrame(() => page.querySelector('h1')?.focus({ preventScroll: true }));
}

const NAV = [
  { id: 'dashboard', label: 'Dashboard', icon: 'grid', href: '#/dashboard', testid: 'nav-dashboard' },
  { id: 'videos', label: 'Videos', icon: 'film', href: '#/videos', testid: 'nav-videos' },
  { id: 'catalog', label: 'Catalog', icon: 'grid', href: '#/catalog', testid: 'nav-catalog' },
  { id: 'api-keys', label: 'API keys', icon: 'key', href: '#/api-keys', testid: 'nav-api-keys' },
  { id: 'playback', label: 'Playback', icon: 'shield', href: '#/playback', testid: 'nav-playback' },
  { id: 'tenants', label: 'Sub-tenants', icon: 'network', href: '#/tenants', testid: 'nav-tenants', when: canHaveSubTenants },
  { id: 'branding', label: 'Branding', icon: 'palette', href: '#/branding', testid: 'nav-branding' },
  { id: 'billing', label: 'Billing', icon: 'grid', href: '#/billing', testid: 'nav-billing' },
];

function buildShell() {
  const sidebar = h('aside', { class: 'sidebar', id: 'sidebar', 'aria-label': 'Main' });
  const banner = h('div', { class: 'acting-slot' });
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  const menuBtn = h('button', {
    type: 'button', class: 'btn btn-ghost btn-icon', 'aria-label': 'Open menu', 'aria-controls': 'sidebar', 'aria-expanded': 'false',
    testid: 'menu-toggle',
    onClick: () => {
      const open = sidebar.classList.toggle('open');
      menuBtn.setAttribute('aria-expanded', String(open));
    },
  }, icon('menu', 20));
  const topbar = h('header', { class: 'topbar' }, menuBtn, h('a', { class: 'brand brand-dark', href: '#/dashboard' }, brandMark(), h('span', null, 'Marquee')));
  const scrim = h('div', { class: 'scrim', onClick: () => closeMenu() });
  const el = h('div', { class: 'shell' },
    h('a', { class: 'skip-link', href: '#main', onClick: (e) => { e.preventDefault(); main.focus(); } }, 'Skip to content'),
    sidebar, scrim,
    h('div', { class: 'main-col' }, banner, topbar, main));
  root.replaceChildren(el);
  shell = { el, sidebar, banner, main, nav: null };
}

function updateShell(activeNav = shell.nav) {
  shell.nav = activeNav;
  const t = state.tenant;
  const acting = session.acting && state.tenant && state.home && state.tenant.id !== state.home.id;

  shell.sidebar.replaceChildren(
    h('a', { class: 'brand', href: '#/dashboard' }, brandMark(), h('span', null, 'Marquee')),
    h('div', { class: 'tenant-chip', testid: 'sidebar-tenant' },
      h('div', { class: 'tenant-avatar', 'aria-hidden': 'true' }, initials(t?.name)),
      h('div', { class: 'tenant-chip-text' },
        h('span', { class: 'tenant-chip-name', title: t?.name }, t?.name ?? ''),
        h('span', { class: 'tenant-chip-meta' }, kindBadge(t?.kind), acting ? h('span', { class: 'acting-dot' }, 'acting') : null))),
    h('nav', { class: 'nav' },
      h('ul', null, NAV.filter((n) => !n.when || n.when(t)).map((n) =>
        h('li', null, h('a', {
          href: n.href, class: `nav-link${n.id === activeNav ? ' active' : ''}`, testid: n.testid,
          'aria-current': n.id === activeNav ? 'page' : null,
        }, icon(n.icon), h('span', null, n.label)))))),
    h('div', { class: 'sidebar-foot' },
      h('div', { class: 'user' }, h('div', { class: 'user-avatar', 'aria-hidden': 'true' }, icon('user', 16)),
        h('div', { class: 'user-text' },
          h('span', { class: 'user-email', title: session.email ?? '' }, session.email ?? 'Signed in'),
          h('span', { class: 'user-tenant' }, state.home?.name ?? ''))),
      h('button', { type: 'button', class: 'btn btn-sidebar', testid: 'logout-button', onClick: () => signOut() },
        icon('logout', 17), h('span', null, 'Log out'))),
  );

  shell.banner.replaceChildren(acting
    ? h('div', { class: 'acting-banner', role: 'region', 'aria-label': 'Acting as another tenant', testid: 'acting-banner' },
      icon('shield', 16),
      h('span', null, 'Acting as ', h('strong', { testid: 'acting-name' }, state.tenant.name), ' — '),
      h('button', { type: 'button', class: 'link-button', testid: 'acting-return', onClick: () => actAs(null) }, `return to your tenant`))
    : '');
}

function brandMark() {
  const tpl = document.createElement('template');
  tpl.innerHTML = '<svg class="brand-mark" width="28" height="28" viewBox="0 0 32 32" aria-hidden="true"><rect width="32" height="32" rx="8" fill="#6d4aff"/><path d="M9 22V10l7 7 7-7v12" fill="none" stroke="#fff" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/></svg>';
  return tpl.content.firstElementChild;
}

function closeMenu() {
  if (!shell?.sidebar.classList.contains('open')) return false;
  shell.sidebar.classList.remove('open');
  const toggle = shell.el.querySelector('[aria-controls="sidebar"]');
  toggle?.setAttribute('aria-expanded', 'false');
  return toggle;
}

window.addEventListener('hashchange', route);
document.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape' || document.querySelector('dialog[open]')) return;
  const toggle = closeMenu();
  if (toggle) toggle.focus();
});
window.addEventListener('marquee:signed-out', () => {
  state.home = null;
  state.tenant = null;
  shell = null;
  toast('Your session has ended. Please log in again.', 'danger');
  navigate('/login');
});
route();
