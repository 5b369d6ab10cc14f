#!/usr/bin/env python3
"""Writes examples/history.jsonl and examples/feedback.jsonl: thirty days of
triaged tickets (Spanish and English) with their lifecycle, transcripts and
customer ratings, for support-export and support-store.

Deterministic: the same seed and the same support-triage give the same bytes.
The lifecycle follows each ticket's triaged priority: tickets are first
triaged to learn their SLA targets, then given response and resolution times
around those targets, then triaged again as they stand at the end.

    cargo build --release --bin support-triage && python3 scripts/data/make-history.py
"""

import argparse
import json
import math
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
DAYS = 30

# Agents of examples/agents.yaml by queue and language (the route queues).
AGENTS = {
    "vip": {"es": ["sofia.herrera"], "en": ["sofia.herrera", "mark.obrien"]},
    "retention": {"es": ["lucia.martin"], "en": ["david.chen", "mark.obrien"]},
    "billing": {"es": ["lucia.martin"], "en": ["david.chen", "lucia.martin"]},
    "accounts": {"es": ["javier.ortega"], "en": ["emma.clarke"]},
    "shipping": {"es": ["carmen.ruiz", "hugo.silva"], "en": ["carmen.ruiz", "hugo.silva"]},
    "technical": {"es": ["valentina.rossi", "javier.ortega"], "en": ["emma.clarke", "valentina.rossi"]},
    "spanish-support": {"es": ["valentina.rossi", "carmen.ruiz"], "en": ["valentina.rossi"]},
    "general": {"es": ["valentina.rossi", "hugo.silva"], "en": ["carmen.ruiz", "valentina.rossi"]},
}
# How quickly each agent works, relative to the SLA (lower is faster).
PACE = {
    "sofia.herrera": 0.45, "mark.obrien": 0.6, "lucia.martin": 0.55, "david.chen": 0.8,
    "javier.ortega": 0.7, "emma.clarke": 0.5, "carmen.ruiz": 0.65, "hugo.silva": 0.9,
    "valentina.rossi": 0.75,
}

# (kind, bot can answer it, language, subject, description). {order}, {amount}
# and {day} are filled in per ticket.
TEMPLATES = [
    ("track", True, "es", "¿Dónde está mi pedido {order}?", "Hice el pedido {order} hace cinco días y el seguimiento no se actualiza. ¿Cuándo llegará?"),
    ("track", True, "es", "Estado del pedido {order}", "Hola, quería saber el estado de mi pedido {order}, no he recibido ningún correo de envío."),
    ("track", True, "en", "Where is my order {order}?", "I ordered five days ago (order {order}) and tracking still says label created. When will it arrive?"),
    ("track", True, "en", "Order {order} status", "Hi, can you tell me the status of order {order}? I have not received a shipping email."),
    ("password", True, "es", "No puedo acceder a mi cuenta", "Me dice contraseña incorrecta y ya la he cambiado dos veces. Necesito entrar para ver mis pedidos."),
    ("password", True, "es", "Restablecer contraseña", "No me llega el correo para restablecer la contraseña. ¿Pueden ayudarme?"),
    ("password", True, "en", "Can't log in to my account", "It keeps saying my password is wrong even after resetting it twice. Please help."),
    ("password", True, "en", "Password reset email not arriving", "I requested a password reset three times and no email arrived. Spam folder is empty."),
    ("invoice", True, "es", "Necesito la factura del pedido {order}", "¿Podrían enviarme la factura del pedido {order}? La necesito para la empresa."),
    ("invoice", True, "en", "Invoice for order {order}", "Could you send me the invoice for order {order}? I need it for my expense report."),
    ("newsletter", True, "es", "Darme de baja del boletín", "Quiero dejar de recibir el boletín de ofertas, por favor."),
    ("newsletter", True, "en", "Unsubscribe from newsletter", "Please remove me from your newsletter, I get three emails a day."),
    ("address", True, "es", "Cambiar dirección de envío", "Me he mudado, ¿puedo cambiar la dirección de envío del pedido {order}?"),
    ("address", True, "en", "Change shipping address", "I moved last week. Can I change the delivery address for order {order}?"),
    ("refund", False, "es", "Solicitud de reembolso", "Devolví el producto del pedido {order} hace dos semanas y todavía no he recibido el reembolso de {amount} €."),
    ("refund", False, "es", "Me han cobrado dos veces", "En el extracto aparecen dos cargos de {amount} € por el mismo pedido {order}. Quiero que me devuelvan uno."),
    ("refund", False, "en", "Refund not received", "I returned order {order} two weeks ago and I am still waiting for my {amount} USD refund."),
    ("refund", False, "en", "Charged twice for my subscription", "I was charged twice this month ({amount} USD each). Please refund the duplicate charge."),
    ("payment", False, "es", "El pago con tarjeta falla", "Intento pagar el pedido y la tarjeta es rechazada, pero el banco dice que todo está bien."),
    ("payment", False, "en", "Payment keeps failing", "My card is declined at checkout but my bank says there is no problem with it."),
    ("delivery", False, "es", "El paquete llegó dañado", "El pedido {order} llegó con la caja rota y el producto roto. Quiero una solución."),
    ("delivery", False, "en", "Package arrived damaged", "Order {order} arrived with the box crushed and the item broken. What can you do?"),
    ("delivery", False, "es", "Pedido entregado pero no recibido", "El seguimiento dice entregado el {day} pero no he recibido nada. Nadie firmó."),
    ("delivery", False, "en", "Marked as delivered but not received", "Tracking says delivered on {day} but nothing arrived. Nobody signed for it."),
    ("cancel", False, "es", "Cancelar mi suscripción", "Quiero cancelar la suscripción y que no me cobren la cuota de cancelación, no la usé este mes."),
    ("cancel", False, "en", "Cancel my subscription", "Please cancel my subscription. I do not think I should pay the cancellation fee."),
    ("bug", False, "es", "La aplicación se cierra sola", "Desde la última actualización la app se cierra al abrir el carrito. Android 14."),
    ("bug", False, "en", "App crashes at checkout", "Since the last update the app crashes when I open the cart. iPhone 15, iOS 18."),
    ("complaint", False, "es", "Queja: tercera vez que escribo", "Es la tercera vez que escribo por el pedido {order} y nadie me responde. Esto es una vergüenza, quiero hablar con un responsable."),
    ("complaint", False, "en", "Third time asking, no answer", "This is the third time I write about order {order} and nobody answers. Unacceptable. I want to speak to a manager."),
    ("outage", False, "es", "CAÍDA DEL SERVICIO", "¡¡¡No funciona nada desde esta mañana!!! Ningún empleado puede trabajar, es urgente."),
    ("outage", False, "en", "Service down for our whole team", "Nothing works since this morning, nobody in our company can log in. This is urgent!"),
]
BOT_ANSWERS = {
    "track": {"es": "Tu pedido está en reparto y llegará mañana antes de las 14:00. Te he enviado el enlace de seguimiento.",
              "en": "Your order is out for delivery and will arrive tomorrow before 2 pm. I have sent you the tracking link."},
    "password": {"es": "Te he enviado un enlace nuevo para restablecer la contraseña; caduca en 30 minutos.",
                 "en": "I have sent you a new password reset link; it expires in 30 minutes."},
    "invoice": {"es": "Aquí tienes la factura en PDF; también te la he enviado por correo.",
                "en": "Here is your invoice as a PDF; I have also emailed it to you."},
    "newsletter": {"es": "Listo, te hemos dado de baja del boletín.", "en": "Done, you are unsubscribed from the newsletter."},
    "address": {"es": "He actualizado la dirección de envío del pedido.", "en": "I have updated the delivery address of the order."},
}
THANKS = {"es": "Perfecto, gracias", "en": "Great, thanks"}
HANDOFF = {"es": "Eso no lo resuelve, quiero hablar con una persona", "en": "That does not help, I want to talk to a person"}
AGENT_REPLY = {"es": "Hola, soy del equipo de soporte. Lo reviso ahora mismo.", "en": "Hi, I'm from the support team. Looking into it now."}
AGENT_DONE = {"es": "Ya está solucionado. ¿Necesitas algo más?", "en": "This is sorted now. Anything else I can help with?"}
COMMENTS = {
    5: {"es": ["Rapidísimo, gracias", "Me lo resolvieron al momento", "Muy amables"], "en": ["Super quick, thanks", "Solved in minutes", "Very helpful agent"]},
    4: {"es": ["Bien, aunque tardó un poco", "Correcto"], "en": ["Good, a bit slow", "Fine"]},
    3: {"es": ["Regular", "Tuve que explicarlo dos veces"], "en": ["Okay", "Had to explain twice"]},
    2: {"es": ["Demasiado lento", "Nadie me contestaba"], "en": ["Far too slow", "Took days to get an answer"]},
    1: {"es": ["Pésimo servicio", "No volveré a comprar"], "en": ["Terrible service", "Never again"]},
}
NAMES = {
    "es": ["Ana García", "Luis Pérez", "Marta López", "Jorge Sánchez", "Lucía Romero", "Pablo Díaz", "Elena Torres", "Raúl Navarro", "Carmen Gil", "Iván Molina"],
    "en": ["Emily Johnson", "James Smith", "Olivia Brown", "Liam Wilson", "Sophia Taylor", "Noah Davies", "Grace Evans", "Jack Thomas", "Chloe Walker", "Harry White"],
}
CHANNELS = [("email", 30), ("web", 25), ("chat", 25), ("whatsapp", 10), ("phone", 5), ("api", 5)]
TIERS = [("standard", 60), ("premium", 20), ("free", 12), ("vip", 8)]


def pick(rng, weighted):
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def creation_times(rng):
    """About 12 tickets a working day, fewer at night and at weekends, and an
    outage on the morning of 19 November."""
    start = NOW - timedelta(days=DAYS)
    times = []
    hour = start
    while hour < NOW:
        weekend = hour.weekday() >= 5
        h = hour.hour
        rate = 0.9 if 8 <= h < 18 else 0.3 if 6 <= h < 22 else 0.08
        if weekend:
            rate *= 0.45
        for _ in range(poisson(rng, rate)):
            times.append((hour + timedelta(seconds=rng.randrange(3600)), None))
        hour += timedelta(hours=1)
    outage = datetime(2026, 11, 19, 10, 0, tzinfo=timezone.utc)
    for _ in range(18):
        times.append((outage + timedelta(seconds=rng.randrange(3 * 3600)), "outage"))
    return sorted(times, key=lambda t: t[0])


def poisson(rng, lam):
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def raw_tickets(rng):
    customers = [
        {"id": f"C-{2000 + i}", "language": lang, "name": rng.choice(NAMES[lang]), "tier": pick(rng, TIERS)}
        for i, lang in enumerate(rng.choice(["es", "es", "en"]) for _ in range(260))
    ]
    tickets = []
    for n, (created, forced) in enumerate(creation_times(rng), start=1):
        customer = rng.choice(customers)
        lang = customer["language"]
        options = [t for t in TEMPLATES if t[2] == lang and (forced is None or t[0] == forced)]
        if forced is None:
            options = [t for t in options if t[0] != "outage" or rng.random() < 0.15]
        kind, botable, _, subject, description = rng.choice(options)
        fill = {
            "order": f"#{rng.randrange(100000, 999999)}",
            "amount": f"{rng.randrange(15, 400)},{rng.randrange(0, 99):02d}" if lang == "es" else f"{rng.randrange(15, 400)}.{rng.randrange(0, 99):02d}",
            "day": (created - timedelta(days=rng.randrange(1, 4))).strftime("%d/%m" if lang == "es" else "%b %d"),
        }
        channel = pick(rng, CHANNELS)
        tickets.append({
            "id": f"H-{n:04d}",
            "subject": subject.format(**fill),
            "description": description.format(**fill),
            "channel": channel,
            "customer": {"id": customer["id"], "email": f"{customer['id'].lower()}@example.com",
                         "name": customer["name"], "tier": customer["tier"]},
            "created_at": iso(created),
            "status": "open",
            "metadata": {"source": "history", "kind": kind, "bot_eligible": botable},
        })
    return tickets


def triage(tickets, binary):
    text = "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tickets)
    out = subprocess.run(
        [binary, "--agents", str(ROOT / "examples/agents.yaml"), "--now", iso(NOW)],
        input=text.encode(), capture_output=True, check=True,
    ).stdout.decode()
    return [json.loads(line) for line in out.splitlines()]


def lognormal_delay(rng, target_minutes, pace, spread=0.75):
    """Minutes to act, centred on pace × target, rarely far beyond it."""
    return max(0.5, target_minutes * pace * math.exp(rng.gauss(0, spread)))


def lifecycle(rng, triaged):
    """Adds what happened to each ticket by NOW; returns the raw tickets and their ratings."""
    tickets, feedback = [], []
    for t in triaged:
        raw = {k: v for k, v in t.items() if k not in ("sentiment", "category", "tags", "priority", "route", "escalation")}
        kind, botable = raw["metadata"]["kind"], raw["metadata"]["bot_eligible"]
        lang = t["sentiment"]["language"]
        created = datetime.fromisoformat(raw["created_at"].replace("Z", "+00:00"))
        targets = t["priority"]["sla"]
        fr_target = targets["first_response"]["target_minutes"]
        res_target = targets["resolution"]["target_minutes"]
        conversational = raw["channel"] in ("chat", "whatsapp")
        messages = [(created, "user", raw["description"])] if conversational else []
        resolved_at = first_response = None
        resolved_by = assigned = None

        if conversational and botable and rng.random() < 0.85:
            first_response = created + timedelta(seconds=rng.randrange(3, 40))
            messages.append((first_response, "bot", BOT_ANSWERS[kind][lang]))
            if rng.random() < 0.8:
                done = first_response + timedelta(seconds=rng.randrange(40, 600))
                if done < NOW:
                    messages.append((done, "user", THANKS[lang]))
                    resolved_at, resolved_by = done, "bot"
            else:
                messages.append((first_response + timedelta(seconds=rng.randrange(30, 200)), "user", HANDOFF[lang]))
        if resolved_by is None:
            queue = t["route"]["queue"]
            assigned = rng.choice(AGENTS.get(queue, AGENTS["general"]).get(lang, AGENTS["general"]["en"]))
            pace = PACE[assigned]
            reply = created + timedelta(minutes=lognormal_delay(rng, fr_target, pace))
            if first_response is not None:
                reply = max(reply, messages[-1][0] + timedelta(minutes=1))
            if reply < NOW:
                first_response = first_response or reply
                if conversational:
                    messages.append((reply, "agent", AGENT_REPLY[lang]))
                done = created + timedelta(minutes=lognormal_delay(rng, res_target, pace * 0.8, 0.6))
                done = max(done, reply + timedelta(minutes=2))
                if done < NOW:
                    resolved_at, resolved_by = done, assigned
                    if conversational:
                        messages.append((done, "agent", AGENT_DONE[lang]))

        if resolved_at is not None:
            closed = resolved_at + timedelta(days=2)
            raw["status"] = "closed" if closed < NOW else "resolved"
            raw["resolved_at"] = iso(resolved_at)
            raw["resolved_by"] = resolved_by
            if closed < NOW:
                raw["closed_at"] = iso(closed)
        else:
            raw["status"] = "pending" if first_response else "open"
        if first_response is not None:
            raw["first_response_at"] = iso(first_response)
        if assigned is not None:
            raw["assigned_to"] = assigned
        if messages:
            raw["messages"] = [{"role": r, "content": c, "timestamp": iso(at)} for at, r, c in messages]
        tickets.append(raw)

        if resolved_at is not None and rng.random() < (0.55 if resolved_by == "bot" else 0.4):
            late = (first_response - created).total_seconds() / 60 > fr_target or \
                (resolved_at - created).total_seconds() / 60 > res_target
            base = 4.7 if resolved_by == "bot" else 4.4
            base -= 1.5 if late else 0
            base -= 0.4 if t["sentiment"]["label"] == "negative" else 0
            rating = min(5, max(1, round(rng.gauss(base, 0.8))))
            at = resolved_at + timedelta(minutes=rng.randrange(5, 180))
            if at < NOW:
                entry = {"ticket_id": raw["id"], "rating": rating}
                if rng.random() < 0.7:
                    entry["comment"] = rng.choice(COMMENTS[rating][lang])
                entry["created_at"] = iso(at)
                feedback.append(entry)
    return tickets, sorted(feedback, key=lambda f: (f["created_at"], f["ticket_id"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--triage", default=str(ROOT / "target/release/support-triage"))
    parser.add_argument("--out", default=str(ROOT / "examples/history.jsonl"))
    parser.add_argument("--feedback", default=str(ROOT / "examples/feedback.jsonl"))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    first_pass = triage(raw_tickets(rng), args.triage)
    tickets, feedback = lifecycle(rng, first_pass)
    final = triage(tickets, args.triage)
    with open(args.out, "w", encoding="utf-8") as f:
        for t in final:
            f.write(json.dumps(t, ensure_ascii=False) + "\n")
    with open(args.feedback, "w", encoding="utf-8") as f:
        for entry in feedback:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    print(f"{len(final)} tickets -> {args.out}, {len(feedback)} ratings -> {args.feedback}", file=sys.stderr)


if __name__ == "__main__":
    main()
