"""A small Chinese → English phrase table for the offline fallback (common actions and emotions).

``translate_zh("她笑着挥手")`` → ``("she", ["smiles", "waves"], [], [])``: a subject, predicates
(third person), adverbs and the characters we could not translate. Longest match wins.
"""
from __future__ import annotations

SUBJECTS: dict[str, str] = {
    "她们": "they", "他们": "they", "她": "she", "他": "he", "我": "the character",
    "女孩": "the girl", "少女": "the girl", "女生": "the girl", "男孩": "the boy", "少年": "the boy",
    "男生": "the boy", "女人": "the woman", "男人": "the man", "猫娘": "the cat girl", "角色": "the character",
    "公主": "the princess", "骑士": "the knight", "精灵": "the fairy", "小猫": "the kitten", "猫": "the cat",
}

PREDICATES: dict[str, str] = {
    "挥手": "waves", "招手": "beckons with one hand", "摸头": "touches her head", "摸摸头": "touches her head",
    "摸": "touches", "走路": "walks", "走": "walks", "行走": "walks", "散步": "strolls", "跑步": "runs",
    "跑": "runs", "奔跑": "runs", "跳舞": "dances", "跳": "jumps", "指": "points", "指着": "points",
    "拥抱": "hugs", "抱": "hugs", "打架": "fights", "战斗": "fights", "打": "strikes", "出拳": "throws a punch",
    "踢": "kicks", "微笑": "smiles softly", "笑": "smiles", "大笑": "laughs", "哭": "cries", "哭泣": "cries",
    "流泪": "sheds tears", "眨眼": "blinks", "点头": "nods", "摇头": "shakes her head", "转身": "turns around",
    "回头": "looks back over her shoulder", "看": "looks", "看着": "looks at the viewer", "坐": "sits",
    "坐下": "sits down", "站起来": "stands up", "站": "stands", "鞠躬": "bows", "唱歌": "sings",
    "说话": "talks", "喝茶": "sips tea", "吃": "eats", "飞": "flies", "睡觉": "sleeps", "伸懒腰": "stretches",
    "生气": "looks angry", "愤怒": "looks furious", "害羞": "blushes shyly", "脸红": "blushes",
    "惊讶": "looks surprised", "吃惊": "looks surprised", "开心": "looks happy", "高兴": "looks happy",
    "快乐": "looks joyful", "难过": "looks sad", "伤心": "looks heartbroken", "悲伤": "looks sad",
    "害怕": "looks scared", "紧张": "looks nervous", "平静": "looks calm", "温柔": "looks gentle",
    "得意": "looks smug", "无聊": "looks bored", "困": "looks sleepy", "思考": "thinks quietly",
    "头发飘动": "hair flutters", "头发飘": "hair flutters", "飘动": "flutters", "飘": "flutters",
    "风吹": "the wind blows", "下雨": "rain falls", "下雪": "snow falls",
}

ADVERBS: dict[str, str] = {
    "慢慢地": "slowly", "慢慢": "slowly", "缓缓": "slowly", "轻轻地": "gently", "轻轻": "gently",
    "快速": "quickly", "快快": "quickly", "用力": "forcefully", "开心地": "happily", "高兴地": "happily",
    "温柔地": "gently", "对着镜头": "toward the camera", "向镜头": "toward the camera", "在风中": "in the wind",
    "在雨中": "in the rain", "在樱花树下": "under a cherry blossom tree", "在教室里": "in the classroom",
}

#: Characters that carry grammar only (particles, conjunctions, punctuation): skipped silently.
FILLERS = set("的地得着了在和与跟并且又也很非常就都把被再一下个吧呢啊呀吗，。！？、；：“”‘’（）《》 ,.!?;:")


def translate_zh(text: str) -> tuple[str | None, list[str], list[str], list[str]]:
    """Greedy longest-match translation: (subject or None, predicates, adverbs, unknown chars)."""
    tables = [(SUBJECTS, "s"), (PREDICATES, "p"), (ADVERBS, "a")]
    longest = max(len(k) for t, _ in tables for k in t)
    subject, preds, advs, unknown = None, [], [], []
    i = 0
    while i < len(text):
        for n in range(min(longest, len(text) - i), 0, -1):
            piece = text[i:i + n]
            hit = next(((t[piece], kind) for t, kind in tables if piece in t), None)
            if hit:
                value, kind = hit
                if kind == "s" and subject is None:
                    subject = value
                elif kind == "p" and value not in preds:
                    preds.append(value)
                elif kind == "a" and value not in advs:
                    advs.append(value)
                i += n
                break
        else:
            ch = text[i]
            if ch not in FILLERS and not ch.isspace() and not ch.isascii():
                unknown.append(ch)
            i += 1
    return subject, preds, advs, unknown
