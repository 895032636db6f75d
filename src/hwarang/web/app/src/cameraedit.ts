// Cameras and rules from the page (administrators): the camera's current picture, zones and
// tripwires drawn on it by clicking points, position and view fields, saved as a new version that
// the hub sends to the edge; the edge's answer ("applied at the edge") shows when it arrives.
import { ApiError, api, apiJson, tokenClaims } from './auth';
import { h } from './dom';
import { defineStrings, t } from './i18n';
import { formatKstTime } from './time';

defineStrings({
  ko: {
    ce_open: '카메라 설정', ce_title: '카메라와 규칙 설정', ce_list: '카메라', ce_edit: '편집', ce_back: '목록으로',
    ce_new: '카메라 추가', ce_id: '카메라 ID', ce_name: '이름', ce_center: '관제센터', ce_lat: '위도', ce_lon: '경도',
    ce_heading: '방향(도)', ce_fov: '화각(도)', ce_source: '영상 소스 (JSON)', ce_add_camera: '추가',
    ce_tool_zone: '구역 그리기', ce_tool_line: '감시선 그리기', ce_undo: '점 취소', ce_clear: '그리기 취소',
    ce_rule_name: '규칙 이름', ce_rule_add: '규칙 추가', ce_rules: '규칙', ce_delete: '삭제',
    ce_hint_zone: '사진 위를 눌러 구역의 꼭짓점을 찍으세요 (3개 이상).',
    ce_hint_line: '사진 위를 눌러 감시선의 양 끝 두 점을 찍으세요.',
    ce_need_points: '점이 부족합니다: 구역은 3개, 감시선은 2개가 필요합니다.', ce_need_name: '규칙 이름을 입력하세요.',
    ce_save: '저장하여 엣지에 적용', ce_version: '버전 {v}', ce_version_file: '버전 0 (사이트 설정 파일)',
    ce_pending: '엣지 응답 대기 중…', ce_applied: '엣지에 적용됨 ({at})', ce_refused: '엣지가 거부함: {reason}',
    ce_stale: '엣지에 이미 더 새 버전이 있음', ce_conflict: '다른 사용자가 먼저 바꾸었습니다. 다시 불러왔습니다.',
    ce_invalid: '설정 오류: {message}', ce_failed: '저장하지 못했습니다: {message}', ce_no_picture: '현재 화면 없음',
    ce_export: 'YAML 내보내기', ce_zone: '구역', ce_line: '감시선', ce_bad_json: '영상 소스가 올바른 JSON이 아닙니다.',
  },
  en: {
    ce_open: 'Cameras', ce_title: 'Cameras and rules', ce_list: 'Cameras', ce_edit: 'Edit', ce_back: 'Back to the list',
    ce_new: 'Add a camera', ce_id: 'Camera id', ce_name: 'Name', ce_center: 'Control center', ce_lat: 'Latitude',
    ce_lon: 'Longitude', ce_heading: 'Heading (°)', ce_fov: 'Field of view (°)', ce_source: 'Video source (JSON)',
    ce_add_camera: 'Add', ce_tool_zone: 'Draw a zone', ce_tool_line: 'Draw a tripwire', ce_undo: 'Undo point',
    ce_clear: 'Cancel drawing', ce_rule_name: 'Rule name', ce_rule_add: 'Add rule', ce_rules: 'Rules', ce_delete: 'Delete',
    ce_hint_zone: 'Click on the picture to place the zone\'s corners (3 or more).',
    ce_hint_line: 'Click on the picture to place the two ends of the tripwire.',
    ce_need_points: 'Not enough points: a zone needs 3, a tripwire 2.', ce_need_name: 'Give the rule a name.',
    ce_save: 'Save and apply at the edge', ce_version: 'Version {v}', ce_version_file: 'Version 0 (site file)',
    ce_pending: 'Waiting for the edge…', ce_applied: 'Applied at the edge ({at})', ce_refused: 'Refused by the edge: {reason}',
    ce_stale: 'The edge already runs a newer version', ce_conflict: 'Someone changed it first; reloaded.',
    ce_invalid: 'Invalid: {message}', ce_failed: 'Could not save: {message}', ce_no_picture: 'No current picture',
    ce_export: 'Export YAML', ce_zone: 'Zone', ce_line: 'Tripwire', ce_bad_json: 'The video source is not valid JSON.',
  },
});

type Point = [number, number];
type Rule = Record<string, unknown> & { type: string; name: string; polygon?: Point[]; start?: Point; end?: Point };
interface CameraConfig extends Record<string, unknown> {
  id: string; name: string; position: { lat: number; lon: number }; heading_deg?: number; fov_deg?: number;
  source: Record<string, unknown>; rules?: Rule[];
}
interface EdgeAnswer { status: string; reason: string | null; how: string | null; at: string | null }
interface ConfigVersion { camera_id: string; center_id: string; version: number; config: CameraConfig; edge: EdgeAnswer | null }
interface CameraRow { id: string; name: string; center_id: string }

const SVG = 'http://www.w3.org/2000/svg';
const POLL_MS = 500;
const POLL_LIMIT = 120;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string> = {}): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  return el;
}

/** True when the session's token carries the administrator role. */
export function isAdmin(): boolean {
  const roles = (tokenClaims() as { roles?: unknown }).roles;
  return Array.isArray(roles) && roles.includes('admin');
}

export class CameraEditor {
  private readonly root = h('div', { id: 'camera-editor', class: 'overlay', 'data-testid': 'camera-editor' });
  readonly button = h('button', { type: 'button', id: 'camera-editor-button', 'data-testid': 'camera-editor-button' });
  private cameras: CameraRow[] = [];
  private current: ConfigVersion | null = null;
  private draft: CameraConfig | null = null;
  private picture: { url: string; width: number; height: number } | null = null;
  private tool: 'zone' | 'line' = 'zone';
  private points: Point[] = [];
  private ruleName = '';
  private message = '';
  private polling = 0;
  /** Called after a version is stored (the map redraws the camera's rules). */
  onSaved: () => void = () => {};

  constructor() {
    this.root.hidden = true;
    this.button.hidden = true;
    this.button.addEventListener('click', () => void this.show());
    document.body.append(this.root);
    this.relabel();
  }

  get shown(): boolean {
    return !this.root.hidden;
  }

  relabel(): void {
    this.button.textContent = t('ce_open');
    if (this.shown) this.render();
  }

  hide(): void {
    this.root.hidden = true;
    this.polling += 1;
    this.dropPicture();
  }

  async show(cameraId?: string): Promise<void> {
    this.root.hidden = false;
    this.cameras = await apiJson<CameraRow[]>('/api/v1/cameras').catch(() => []);
    if (cameraId) await this.open(cameraId);
    else {
      this.current = null;
      this.render();
    }
  }

  /** Open one camera: its configuration, its current picture. */
  async open(cameraId: string): Promise<void> {
    this.message = '';
    this.points = [];
    this.current = await apiJson<ConfigVersion>(`/api/v1/cameras/${encodeURIComponent(cameraId)}/config`);
    this.draft = structuredClone(this.current.config);
    await this.loadPicture(cameraId);
    this.render();
  }

  private async loadPicture(cameraId: string): Promise<void> {
    this.dropPicture();
    try {
      const response = await api(`/api/v1/cameras/${encodeURIComponent(cameraId)}/picture`);
      const url = URL.createObjectURL(await response.blob());
      const image = new Image();
      image.src = url;
      await image.decode();
      // Rules are in the frame's pixels; an edge elsewhere may send the picture smaller and say so.
      const width = Number(response.headers.get('X-Frame-Width')) || image.naturalWidth;
      const height = Number(response.headers.get('X-Frame-Height')) || image.naturalHeight;
      this.picture = { url, width, height };
    } catch (err) {
      if (!(err instanceof ApiError)) console.warn('camera picture', err);
    }
  }

  private dropPicture(): void {
    if (this.picture) URL.revokeObjectURL(this.picture.url);
    this.picture = null;
  }

  private render(): void {
    const close = h('button', { type: 'button', class: 'close', 'data-testid': 'camera-editor-close', title: t('close') }, '×');
    close.addEventListener('click', () => this.hide());
    const body = this.current && this.draft ? this.editorView(this.current, this.draft) : this.listView();
    this.root.replaceChildren(
      h('div', { class: 'overlay-box camera-editor-box' }, h('div', { class: 'panel-head' }, h('h2', {}, t('ce_title')), close), body),
    );
  }

  private listView(): HTMLElement {
    const exportButton = h('button', { type: 'button', 'data-testid': 'ce-export' }, t('ce_export'));
    exportButton.addEventListener('click', () => void this.exportYaml());
    return h('div', {},
      h('h3', {}, t('ce_list')),
      h('ul', { class: 'ce-cameras' }, ...this.cameras.map((camera) => {
        const edit = h('button', { type: 'button', 'data-testid': 'ce-edit', 'data-camera-id': camera.id }, t('ce_edit'));
        edit.addEventListener('click', () => void this.open(camera.id));
        return h('li', {}, h('span', { class: 'mono' }, camera.id), ` ${camera.name} `, edit);
      })),
      this.newCameraForm(),
      exportButton,
      h('p', { class: 'ce-message', 'data-testid': 'ce-message', role: 'status' }, this.message));
  }

  private newCameraForm(): HTMLElement {
    const centers = [...new Set(this.cameras.map((c) => c.center_id))];
    const field = (name: string, label: string, attrs: Record<string, string> = {}): HTMLElement =>
      h('label', {}, `${label} `, h('input', { name, 'data-testid': `ce-new-${name}`, required: '', ...attrs }));
    const center = h('select', { name: 'center', 'data-testid': 'ce-new-center' }, ...centers.map((c) => h('option', { value: c }, c)));
    const source = h('textarea', { name: 'source', rows: '2', 'data-testid': 'ce-new-source' }, '{"type": "synthetic", "fps": 10}');
    const form = h('form', { class: 'ce-new' },
      h('h3', {}, t('ce_new')), field('id', t('ce_id'), { pattern: '[a-z0-9][a-z0-9_-]{0,63}' }), field('name', t('ce_name')),
      h('label', {}, `${t('ce_center')} `, center),
      field('lat', t('ce_lat'), { type: 'number', step: 'any' }), field('lon', t('ce_lon'), { type: 'number', step: 'any' }),
      field('heading', t('ce_heading'), { type: 'number', step: 'any', value: '0' }), field('fov', t('ce_fov'), { type: 'number', step: 'any', value: '60' }),
      h('label', {}, `${t('ce_source')} `, source),
      h('button', { type: 'submit', 'data-testid': 'ce-new-add' }, t('ce_add_camera')));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const value = (name: string): string => (form.elements.namedItem(name) as HTMLInputElement).value;
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(source.value) as Record<string, unknown>;
      } catch {
        this.message = t('ce_bad_json');
        this.render();
        return;
      }
      const config = {
        id: value('id'), name: value('name'), position: { lat: Number(value('lat')), lon: Number(value('lon')) },
        heading_deg: Number(value('heading')), fov_deg: Number(value('fov')), source: parsed, rules: [],
      };
      void this.send(() => apiJson<ConfigVersion>('/api/v1/cameras', { method: 'POST', json: { center_id: center.value, config } }));
    });
    return form;
  }

  private editorView(current: ConfigVersion, draft: CameraConfig): HTMLElement {
    const back = h('button', { type: 'button', 'data-testid': 'ce-back' }, t('ce_back'));
    back.addEventListener('click', () => {
      this.current = null;
      this.polling += 1;
      this.render();
    });
    const save = h('button', { type: 'button', class: 'primary', 'data-testid': 'ce-save' }, t('ce_save'));
    save.addEventListener('click', () => void this.save());
    return h('div', { class: 'ce-editor', 'data-camera-id': current.camera_id },
      h('div', { class: 'ce-head' }, back, h('strong', { class: 'mono' }, current.camera_id),
        h('span', { 'data-testid': 'ce-version', 'data-version': String(current.version) },
          current.version ? t('ce_version', { v: current.version }) : t('ce_version_file')),
        this.edgeStatus(current)),
      h('div', { class: 'ce-main' }, this.pictureView(draft), h('div', { class: 'ce-side' }, this.fields(draft), this.ruleTools(), this.ruleList(draft))),
      h('div', { class: 'ce-foot' }, save, h('span', { class: 'ce-message', 'data-testid': 'ce-message', role: 'status' }, this.message)));
  }

  private edgeStatus(current: ConfigVersion): HTMLElement {
    const answer = current.edge;
    if (current.version === 0) return h('span', {});
    const status = answer?.status ?? 'pending';
    const text = !answer ? t('ce_pending')
      : answer.status === 'applied' ? t('ce_applied', { at: answer.at ? `${formatKstTime(answer.at)} KST` : '' })
        : answer.status === 'stale' ? t('ce_stale') : t('ce_refused', { reason: answer.reason ?? '' });
    return h('span', { class: `ce-edge ce-edge-${status}`, 'data-testid': 'ce-edge-status', 'data-status': status }, text);
  }

  private fields(draft: CameraConfig): HTMLElement {
    const input = (label: string, value: string, testid: string, apply: (v: string) => void, type = 'number'): HTMLElement => {
      const el = h('input', { type, step: 'any', value, 'data-testid': testid });
      el.addEventListener('change', () => apply(el.value));
      return h('label', {}, `${label} `, el);
    };
    const source = h('textarea', { rows: '3', 'data-testid': 'ce-source' }, JSON.stringify(draft.source));
    source.addEventListener('change', () => {
      try {
        draft.source = JSON.parse(source.value) as Record<string, unknown>;
        this.message = '';
      } catch {
        this.message = t('ce_bad_json');
      }
    });
    return h('div', { class: 'ce-fields' },
      input(t('ce_name'), draft.name, 'ce-name', (v) => { draft.name = v; }, 'text'),
      input(t('ce_lat'), String(draft.position.lat), 'ce-lat', (v) => { draft.position = { ...draft.position, lat: Number(v) }; }),
      input(t('ce_lon'), String(draft.position.lon), 'ce-lon', (v) => { draft.position = { ...draft.position, lon: Number(v) }; }),
      input(t('ce_heading'), String(draft.heading_deg ?? 0), 'ce-heading', (v) => { draft.heading_deg = Number(v); }),
      input(t('ce_fov'), String(draft.fov_deg ?? 60), 'ce-fov', (v) => { draft.fov_deg = Number(v); }),
      h('label', {}, `${t('ce_source')} `, source));
  }

  private pictureView(draft: CameraConfig): Element {
    if (!this.picture) return h('div', { class: 'ce-picture ce-empty', 'data-testid': 'ce-picture' }, t('ce_no_picture'));
    const { url, width, height } = this.picture;
    const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'ce-picture', 'data-testid': 'ce-picture', 'data-width': String(width), 'data-height': String(height) });
    root.append(svg('image', { href: url, x: '0', y: '0', width: String(width), height: String(height) }));
    const stroke = String(Math.max(2, Math.round(width / 320)));
    for (const rule of draft.rules ?? []) {
      if (rule.polygon) root.append(svg('polygon', { points: rule.polygon.map((p) => p.join(',')).join(' '), class: 'ce-rule-zone', 'stroke-width': stroke }));
      if (rule.start && rule.end) {
        root.append(svg('line', { x1: String(rule.start[0]), y1: String(rule.start[1]), x2: String(rule.end[0]), y2: String(rule.end[1]), class: 'ce-rule-line', 'stroke-width': stroke }));
      }
      const anchor = rule.polygon?.[0] ?? rule.start;
      if (anchor) {
        const label = svg('text', { x: String(anchor[0] + 4), y: String(anchor[1] + Number(stroke) * 8), class: 'ce-rule-label', 'font-size': String(Number(stroke) * 7) });
        label.textContent = rule.name;
        root.append(label);
      }
    }
    if (this.points.length) {
      root.append(svg('polyline', { points: this.points.map((p) => p.join(',')).join(' '), class: 'ce-drawing', 'stroke-width': stroke }));
      for (const [x, y] of this.points) root.append(svg('circle', { cx: String(x), cy: String(y), r: String(Number(stroke) * 2), class: 'ce-point' }));
    }
    root.addEventListener('click', (event) => {
      const matrix = root.getScreenCTM();
      if (!matrix) return;
      const at = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
      const point: Point = [Math.round(Math.min(width, Math.max(0, at.x))), Math.round(Math.min(height, Math.max(0, at.y)))];
      if (this.tool === 'line' && this.points.length >= 2) this.points = [];
      this.points.push(point);
      this.render();
    });
    return root;
  }

  private ruleTools(): HTMLElement {
    const toolButton = (tool: 'zone' | 'line', label: string): HTMLElement => {
      const el = h('button', { type: 'button', 'data-testid': `ce-tool-${tool}`, class: this.tool === tool ? 'active' : undefined, 'aria-pressed': String(this.tool === tool) }, label);
      el.addEventListener('click', () => {
        this.tool = tool;
        this.points = [];
        this.render();
      });
      return el;
    };
    const undo = h('button', { type: 'button', 'data-testid': 'ce-undo' }, t('ce_undo'));
    undo.addEventListener('click', () => {
      this.points.pop();
      this.render();
    });
    const clear = h('button', { type: 'button', 'data-testid': 'ce-clear' }, t('ce_clear'));
    clear.addEventListener('click', () => {
      this.points = [];
      this.render();
    });
    const name = h('input', { 'data-testid': 'ce-rule-name', placeholder: t('ce_rule_name'), maxlength: '64', value: this.ruleName });
    name.addEventListener('input', () => { this.ruleName = name.value; });
    const add = h('button', { type: 'button', 'data-testid': 'ce-rule-add' }, t('ce_rule_add'));
    add.addEventListener('click', () => this.addRule(name.value.trim()));
    return h('div', { class: 'ce-tools' },
      h('div', {}, toolButton('zone', t('ce_tool_zone')), toolButton('line', t('ce_tool_line')), undo, clear),
      h('p', { class: 'muted' }, t(this.tool === 'zone' ? 'ce_hint_zone' : 'ce_hint_line')),
      h('div', {}, name, add));
  }

  private addRule(name: string): void {
    if (!this.draft) return;
    const needed = this.tool === 'zone' ? 3 : 2;
    if (this.points.length < needed) this.message = t('ce_need_points');
    else if (!name) this.message = t('ce_need_name');
    else {
      const rule: Rule = this.tool === 'zone'
        ? { type: 'zone_intrusion', name, polygon: this.points, min_dwell_s: 0.5 }
        : { type: 'line_crossing', name, start: this.points[0], end: this.points[1], direction: 'both' };
      this.draft.rules = [...(this.draft.rules ?? []).filter((r) => r.name !== name), rule];
      this.points = [];
      this.ruleName = '';
      this.message = '';
    }
    this.render();
  }

  private ruleList(draft: CameraConfig): HTMLElement {
    return h('div', { class: 'ce-rules' }, h('h3', {}, t('ce_rules')),
      h('ul', {}, ...(draft.rules ?? []).map((rule) => {
        const remove = h('button', { type: 'button', 'data-testid': 'ce-rule-delete', 'data-rule': rule.name }, t('ce_delete'));
        remove.addEventListener('click', () => {
          draft.rules = (draft.rules ?? []).filter((r) => r !== rule);
          this.render();
        });
        const kind = rule.polygon ? t('ce_zone') : rule.start ? t('ce_line') : rule.type;
        return h('li', { 'data-testid': 'ce-rule', 'data-rule': rule.name }, h('span', { class: 'mono' }, rule.name), ` · ${kind} `, remove);
      })));
  }

  private async save(): Promise<void> {
    const current = this.current;
    const draft = this.draft;
    if (!current || !draft) return;
    await this.send(() => apiJson<ConfigVersion>(`/api/v1/cameras/${encodeURIComponent(current.camera_id)}/config`, {
      method: 'PUT', json: { version: current.version, config: draft },
    }));
  }

  /** Send a change; show the stored version and follow the edge's answer to it. */
  private async send(request: () => Promise<ConfigVersion>): Promise<void> {
    try {
      const saved = await request();
      this.current = saved;
      this.onSaved();
      this.draft = structuredClone(saved.config);
      this.message = '';
      if (!this.picture) await this.loadPicture(saved.camera_id);
      this.render();
      void this.follow(saved.camera_id, saved.version);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409 && this.current) {
        await this.open(this.current.camera_id);
        this.message = t('ce_conflict');
      } else if (err instanceof ApiError && err.status === 422) {
        this.message = t('ce_invalid', { message: err.message });
      } else {
        this.message = t('ce_failed', { message: err instanceof Error ? err.message : String(err) });
      }
      this.render();
    }
  }

  private async follow(cameraId: string, version: number): Promise<void> {
    const mine = ++this.polling;
    for (let i = 0; i < POLL_LIMIT && mine === this.polling; i += 1) {
      await new Promise((resolve) => window.setTimeout(resolve, POLL_MS));
      const now = await apiJson<ConfigVersion>(`/api/v1/cameras/${encodeURIComponent(cameraId)}/config`).catch(() => null);
      if (!now || mine !== this.polling || now.version !== version) return;
      if (now.edge) {
        this.current = now;
        this.render();
        return;
      }
    }
  }

  private async exportYaml(): Promise<void> {
    const text = await (await api('/api/v1/config/export.yaml')).text();
    const link = h('a', { href: URL.createObjectURL(new Blob([text], { type: 'application/yaml' })), download: 'hwarang-cameras.yaml' });
    link.click();
    URL.revokeObjectURL(link.href);
  }
}
