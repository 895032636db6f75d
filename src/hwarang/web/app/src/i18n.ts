// Korean (default) and English UI text. Both tables hold every key (the compiler checks it, and
// tests/unit/api/test_web_i18n.py checks every key the page uses). A module with many strings of
// its own registers them with `defineStrings({ ko: {...}, en: {...} })`: the same check applies.

const KO = {
  title: '화랑 통합방위 상황실', login_title: '로그인', username: '사용자 ID', password: '비밀번호',
  login: '로그인', logout: '로그아웃', login_failed: '사용자 ID 또는 비밀번호가 올바르지 않습니다.',
  login_unavailable: '서버에 연결할 수 없습니다. 잠시 후 다시 시도하세요.',
  session_expired: '세션이 만료되었습니다. 다시 로그인하세요.',
  incidents: '상황 목록', count: '건수', empty: '표시할 상황이 없습니다.', more: '상위 {n}건만 표시 (필터로 좁히세요)',
  col_snapshot: '스냅샷', col_time: '최초 탐지 (KST)', col_severity: '위험도', col_title: '제목',
  col_class: '객체', col_rule: '규칙', col_camera: '카메라', col_state: '상태',
  conn_connecting: '연결 중', conn_live: '실시간', conn_reconnecting: '재연결 중', conn_offline: '연결 끊김',
  truncated: '연결이 오래 끊겨 일부 이전 상황은 목록에 없습니다.', exercise: '훈련', lang_other: 'EN',
  sev_low: '낮음', sev_medium: '보통', sev_high: '높음', sev_critical: '심각',
  state_new: '신규', state_acknowledged: '확인', state_assessing: '평가 중', state_responding: '대응 중',
  state_resolved: '종결', state_false_alarm: '오경보',
  cls_person: '사람', cls_vehicle: '차량', cls_two_wheeler: '이륜차', cls_boat: '선박',
  cls_aircraft: '항공기', cls_animal: '동물', cls_unknown: '미상',
  rule_zone_intrusion: '구역 침입', rule_line_crossing: '선 통과', rule_loitering: '배회', rule_crowding: '군집',
  f_zone: '훈련 구역', f_sido: '시도', f_sigungu: '시군구', f_agency: '기관', f_class: '객체',
  f_severity: '위험도', f_state: '상태', f_time: '기간', f_reset: '초기화', f_all: '전체',
  t_1h: '최근 1시간', t_6h: '최근 6시간', t_24h: '최근 24시간', t_7d: '최근 7일',
  camera_filter: '카메라 {camera}의 상황만', camera_filter_clear: '카메라 필터 해제',
  state_open: '미종결', camera_search: '카메라 검색 (ID·이름)', no_camera: '일치하는 카메라 없음',
  ack: '접수', ack_failed: '접수하지 못했습니다', action_failed: '처리하지 못했습니다',
  to_acknowledged: '접수', to_assessing: '평가', to_responding: '대응', to_resolved: '종결(실상황)',
  to_false_alarm: '오경보 종결', reason: '사유', reason_needed: '종결하려면 사유를 입력하세요.',
  assign: '담당 지정', assign_user: '담당자 ID', unassign: '해제', assignee: '담당',
  task: '기관 임무 부여', task_title: '임무', task_due: '기한(분)', task_send: '부여', tasks: '임무',
  note: '메모', note_add: '메모 추가', timeline: '경과', evidence: '증거', snapshot: '스냅샷',
  frames: '프레임', close: '닫기', camera: '카메라', region: '지역', zone: '구역', seen: '탐지',
  events: '이벤트', no_snapshot: '스냅샷 없음', done: '처리되었습니다', help_title: '단축키',
  k_next: '다음 상황', k_prev: '이전 상황', k_open: '선택한 상황 열기', k_ack: '접수 (확인)',
  k_note: '메모 입력', k_esc: '패널·도움말 닫기', k_help: '단축키 보기', k_search: '카메라 검색',
  k_lang: '한국어/영어 전환',
  legend_incident: '상황', legend_camera: '카메라 상태', health_ok: '정상', health_degraded: '저하',
  health_down: '고장', health_unknown: '미상', drones: '드론', tl_state: '상태 변경', tl_note: '메모',
  tl_created: '생성', tl_event: '이벤트 추가', tl_assign: '담당 지정', tl_task: '임무',
  map_unavailable: '지도 데이터를 불러오지 못했습니다',
  severity_why: '위험도 판단 근거', detector: '탐지기', detector_motion: '동작 감지 전용',
  detector_unknown: '미상 (이전 버전 엣지)', motion_only: '동작 감지 전용: 객체 종류는 형태로 추정한 것입니다',
  motion_only_short: '동작 감지',
  kind_key_infrastructure: '국가중요시설', kind_coast: '해안', kind_border: '접경 지역', kind_ordinary: '일반 지역',
  why_default: '기본 위험도: {rule} · {class} (해당하는 사이트 규칙 없음)',
  why_site_rule: '위험도 규칙 「{name}」: {severity}', why_area: '{kind} 구역 「{name}」 안',
  why_ordinary_area: '일반 지역 (지정 구역 밖)', why_night: '야간 발생', why_day: '주간 발생',
  why_low_confidence: '탐지 신뢰도 {confidence} (기준 {threshold} 미만): 한 단계 낮춤',
  why_motion_only: '동작 감지 전용 탐지기 (객체 종류는 형태 추정): 최대 {cap}',
  why_exercise: '훈련 상황', why_exercise_cap: '훈련 상황: 최대 {cap}',
  why_geofence: '드론이 보호 구역 「{site}」 지오펜스 안',
  why_drone_cooperative: '원격 식별 드론 {track}와 연계 ({distance_m} m)',
  why_drone_non_cooperative: '반경 {radius_m} m·{window_s}초 안에 원격 식별 없음: 한 단계 높임',
  actor_ingest: '시스템 (수집)', actor_escalation: '시스템 (상향)', actor_cap: '시스템 (CAP 경보)',
  actor_demo: '시스템 (시연)', actor_bootstrap: '시스템 (초기 설정)', actor_auth: '시스템 (인증)',
  actor_conditions: '시스템 (상황 선포)', actor_simulation: '시스템 (모의 훈련)',
  tl_created_words: '상황 발생: {camera} 카메라의 첫 이벤트, 위험도 {severity}',
  tl_event_words: '{camera} 카메라 이벤트, 위험도 {severity}, 연관 점수 {score}',
  tl_burst_one: '이벤트 +1건', tl_burst: '이벤트 +{n}건', tl_cameras_one: '카메라 1대', tl_cameras: '카메라 {n}대',
  tl_over: '({d} 동안)', tl_after: '({d} 만에)', tl_tasks_cancelled: '· 임무 {n}건 취소', tl_reopened: '재개:',
  tl_assigned: '담당자 지정: {user}', tl_unassigned: '담당 해제 ({user})', tl_attachment: '파일 첨부: {name} ({size})',
  tl_task_created: '{agency}에 임무 부여: {title}, 기한 {due}', tl_due: '{in} 후 ({at} KST)',
  tl_task_state: '{agency} 임무: {from} → {to}', tl_task_escalated: '{agency} 임무 기한 {late} 초과: {level}단계 상향',
  tl_severity: '위험도 {from} → {to}', tl_shared: '{agency}에 공유', tl_shared_task: '{agency}에 공유 (임무 부여)',
  tl_merged: '다른 상황을 병합 (이벤트 {n}건)', tl_merged_into: '다른 상황에 병합됨',
  tl_split: '이벤트 {n}건을 새 상황으로 분리', tl_split_from: '다른 상황에서 분리됨',
  tl_unacked_escalated: '{after} 동안 미접수: {level}단계 상향', tl_other: '기록 ({kind})',
  why_task_overdue: '임무 기한 초과', why_incident_resolved: '상황 종결', why_incident_false_alarm: '오경보 종결',
  task_open: '미접수', task_acknowledged: '접수', task_done: '완료', task_cancelled: '취소', task_in_progress: '진행 중', task_declined: '거절',
  task_due_in: '기한 {d} 남음 ({at})', task_overdue: '기한 {d} 초과 ({at})',
  agency_kind_local_government: '지방자치단체', agency_kind_integrated_defense_hq: '통합방위지원본부',
  agency_kind_military: '군부대', agency_kind_police: '경찰', agency_kind_coast_guard: '해양경찰',
  agency_kind_fire: '소방', agency_kind_intelligence: '정보기관', agency_kind_interior_ministry: '행정안전부',
  agency_kind_infrastructure: '국가중요시설',
};

type Key = keyof typeof KO;

const EN: Record<Key, string> = {
  title: 'Hwarang Integrated Defense Situation Room', login_title: 'Log in', username: 'Username',
  password: 'Password', login: 'Log in', logout: 'Log out', login_failed: 'Incorrect username or password.',
  login_unavailable: 'Cannot reach the server. Try again shortly.',
  session_expired: 'Your session expired. Please log in again.',
  incidents: 'Incidents', count: 'Count', empty: 'No incidents to show.', more: 'Showing the first {n} (narrow with filters)',
  col_snapshot: 'Snapshot', col_time: 'First detected (KST)', col_severity: 'Severity', col_title: 'Title',
  col_class: 'Object', col_rule: 'Rule', col_camera: 'Camera', col_state: 'State',
  conn_connecting: 'Connecting', conn_live: 'Live', conn_reconnecting: 'Reconnecting', conn_offline: 'Offline',
  truncated: 'Disconnected for long; some older incidents are not listed.', exercise: 'Exercise',
  lang_other: '한국어',
  sev_low: 'Low', sev_medium: 'Medium', sev_high: 'High', sev_critical: 'Critical',
  state_new: 'New', state_acknowledged: 'Acknowledged', state_assessing: 'Assessing',
  state_responding: 'Responding', state_resolved: 'Resolved', state_false_alarm: 'False alarm',
  cls_person: 'Person', cls_vehicle: 'Vehicle', cls_two_wheeler: 'Two-wheeler', cls_boat: 'Boat',
  cls_aircraft: 'Aircraft', cls_animal: 'Animal', cls_unknown: 'Unknown',
  rule_zone_intrusion: 'Zone intrusion', rule_line_crossing: 'Line crossing', rule_loitering: 'Loitering',
  rule_crowding: 'Crowding',
  f_zone: 'Exercise zone', f_sido: 'Province', f_sigungu: 'Local government', f_agency: 'Agency',
  f_class: 'Object', f_severity: 'Severity', f_state: 'State', f_time: 'Time', f_reset: 'Reset', f_all: 'All',
  t_1h: 'Last hour', t_6h: 'Last 6 hours', t_24h: 'Last 24 hours', t_7d: 'Last 7 days',
  camera_filter: 'Only camera {camera}', camera_filter_clear: 'Clear the camera filter',
  state_open: 'Open', camera_search: 'Find camera (id, name)', no_camera: 'No matching camera',
  ack: 'Ack', ack_failed: 'Could not acknowledge', action_failed: 'Could not do that',
  to_acknowledged: 'Acknowledge', to_assessing: 'Assess', to_responding: 'Respond', to_resolved: 'Resolve',
  to_false_alarm: 'False alarm', reason: 'Reason', reason_needed: 'Closing needs a reason.',
  assign: 'Assign', assign_user: 'Username', unassign: 'Unassign', assignee: 'Assignee',
  task: 'Task an agency', task_title: 'Task', task_due: 'Due (minutes)', task_send: 'Send', tasks: 'Tasks',
  note: 'Note', note_add: 'Add note', timeline: 'Timeline', evidence: 'Evidence', snapshot: 'Snapshot',
  frames: 'Frames', close: 'Close', camera: 'Camera', region: 'Region', zone: 'Zone', seen: 'Seen',
  events: 'Events', no_snapshot: 'No snapshot', done: 'Done', help_title: 'Keyboard shortcuts',
  k_next: 'Next incident', k_prev: 'Previous incident', k_open: 'Open the selected incident',
  k_ack: 'Acknowledge', k_note: 'Write a note', k_esc: 'Close panel or help', k_help: 'Show shortcuts',
  k_search: 'Find a camera', k_lang: 'Switch Korean/English',
  legend_incident: 'Incidents', legend_camera: 'Camera health', health_ok: 'OK', health_degraded: 'Degraded',
  health_down: 'Down', health_unknown: 'Unknown', drones: 'Drones', tl_state: 'State', tl_note: 'Note',
  tl_created: 'Created', tl_event: 'Event added', tl_assign: 'Assigned', tl_task: 'Task',
  map_unavailable: 'Could not load map data',
  severity_why: 'Why this severity', detector: 'Detector', detector_motion: 'Motion only',
  detector_unknown: 'Unknown (older edge)', motion_only: 'Motion only: the class is a shape guess',
  motion_only_short: 'Motion only',
  kind_key_infrastructure: 'Key national infrastructure', kind_coast: 'Coast', kind_border: 'Border area',
  kind_ordinary: 'Ordinary area',
  why_default: 'Built-in default for {rule} · {class} (no site rule matched)',
  why_site_rule: 'Severity rule “{name}”: {severity}', why_area: 'Inside {kind} area “{name}”',
  why_ordinary_area: 'Ordinary area (outside every named area)', why_night: 'At night', why_day: 'By day',
  why_low_confidence: 'Detector confidence {confidence} below {threshold}: one level lower',
  why_motion_only: 'Motion-only detector (the class is a shape guess): at most {cap}',
  why_exercise: 'Exercise', why_exercise_cap: 'Exercise: at most {cap}',
  why_geofence: 'Drone inside the geofence of protected site “{site}”',
  why_drone_cooperative: 'Matches Remote ID drone {track} ({distance_m} m away)',
  why_drone_non_cooperative: 'No Remote ID within {radius_m} m and {window_s} s: one level higher',
  actor_ingest: 'System (ingest)', actor_escalation: 'System (escalation)', actor_cap: 'System (CAP alert)',
  actor_demo: 'System (demo)', actor_bootstrap: 'System (setup)', actor_auth: 'System (sign-in)',
  actor_conditions: 'System (declared conditions)', actor_simulation: 'System (simulation)',
  tl_created_words: 'Incident opened by the first event from camera {camera}, severity {severity}',
  tl_event_words: 'Event from camera {camera}, severity {severity}, match score {score}',
  tl_burst_one: '+1 event', tl_burst: '+{n} events', tl_cameras_one: '1 camera', tl_cameras: '{n} cameras',
  tl_over: '(over {d})', tl_after: '(after {d})', tl_tasks_cancelled: '· {n} task(s) cancelled', tl_reopened: 'Reopened:',
  tl_assigned: 'Assigned to {user}', tl_unassigned: 'Unassigned ({user})', tl_attachment: 'File attached: {name} ({size})',
  tl_task_created: 'Task for {agency}: {title}, due {due}', tl_due: 'in {in} ({at} KST)',
  tl_task_state: 'Task for {agency}: {from} → {to}', tl_task_escalated: 'Task for {agency} overdue by {late}: escalated to level {level}',
  tl_severity: 'Severity {from} → {to}', tl_shared: 'Shared with {agency}', tl_shared_task: 'Shared with {agency} (tasked)',
  tl_merged: 'Merged other incidents in ({n} events)', tl_merged_into: 'Merged into another incident',
  tl_split: 'Split {n} events off into a new incident', tl_split_from: 'Split off another incident',
  tl_unacked_escalated: 'Not acknowledged for {after}: escalated to level {level}', tl_other: 'Record ({kind})',
  why_task_overdue: 'task overdue', why_incident_resolved: 'incident resolved', why_incident_false_alarm: 'closed as a false alarm',
  task_open: 'open', task_acknowledged: 'acknowledged', task_done: 'done', task_cancelled: 'cancelled', task_in_progress: 'in progress', task_declined: 'declined',
  task_due_in: 'due in {d} ({at})', task_overdue: 'overdue by {d} ({at})',
  agency_kind_local_government: 'Local government', agency_kind_integrated_defense_hq: 'Integrated Defense HQ',
  agency_kind_military: 'Military unit', agency_kind_police: 'Police', agency_kind_coast_guard: 'Coast guard',
  agency_kind_fire: 'Fire service', agency_kind_intelligence: 'Intelligence', agency_kind_interior_ministry: 'Ministry of the Interior',
  agency_kind_infrastructure: 'Key national infrastructure',
};

export type Lang = 'ko' | 'en';
const LANG_KEY = 'hwarang.lang';
let lang: Lang = localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'ko';
const listeners: Array<() => void> = [];

export function currentLang(): Lang {
  return lang;
}

const EXTRA: Record<Lang, Record<string, string>> = { ko: {}, en: {} };

/**
 * Add a module's strings: both languages must give the same keys (a type error otherwise).
 * Keys must not clash with the core table's or another module's (an Error at start-up).
 */
export function defineStrings<K extends string>(tables: { ko: Record<K, string>; en: Record<K, string> }): void {
  for (const key of Object.keys(tables.ko)) {
    if (key in KO || key in EXTRA.ko) throw new Error(`i18n: string ${key} is defined twice`);
  }
  Object.assign(EXTRA.ko, tables.ko);
  Object.assign(EXTRA.en, tables.en);
}

/** The text for `key` (a known key or a dynamic one such as `sev_high`), in the current language. */
export function t(key: string, vars: Record<string, string | number> = {}): string {
  const table: Record<string, string | undefined> = lang === 'en' ? EN : KO;
  let text = table[key] ?? EXTRA[lang][key] ?? (KO as Record<string, string>)[key] ?? EXTRA.ko[key] ?? key;
  for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}

export function onLangChange(listener: () => void): void {
  listeners.push(listener);
}

export function toggleLang(): void {
  lang = lang === 'ko' ? 'en' : 'ko';
  localStorage.setItem(LANG_KEY, lang);
  applyLang();
}

/** Re-labels the static page (data-i18n, data-i18n-title, data-i18n-placeholder) and notifies listeners. */
export function applyLang(): void {
  document.documentElement.lang = lang;
  document.title = t('title');
  for (const el of document.querySelectorAll<HTMLElement>('[data-i18n]')) el.textContent = t(el.dataset.i18n ?? '');
  for (const el of document.querySelectorAll<HTMLElement>('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle ?? '');
  for (const el of document.querySelectorAll<HTMLInputElement>('[data-i18n-placeholder]')) {
    el.placeholder = t(el.dataset.i18nPlaceholder ?? '');
  }
  const toggle = document.getElementById('lang-toggle');
  if (toggle) toggle.textContent = t('lang_other');
  for (const listener of listeners) listener();
}
