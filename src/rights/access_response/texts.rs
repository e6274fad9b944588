//! The access response's words in Estonian, English and Russian: the access-log actions as a
//! person reads them, the rights and how to use them, and the retention criterion. Plain words,
//! no legal shorthand a person would need help with.

use crate::domain::language::Language;

/// The text of `lang` among the three.
pub fn pick<'a>(lang: Language, et: &'a str, en: &'a str, ru: &'a str) -> &'a str {
    match lang {
        Language::Et => et,
        Language::En => en,
        Language::Ru => ru,
    }
}

/// The rights, each with its article, how to use it and the endpoint staff use:
/// `(right, article, endpoint template, et, en, ru)`; `{id}` is the subject's id and
/// `{email}` the controller's address.
pub const RIGHTS: [(&str, &str, &str, &str, &str, &str); 6] = [
    (
        "rectification", "16", "PATCH /v1/subjects/{id}",
        "Kui mõni andmetest on vale, kirjutage {email} ja me parandame selle.",
        "If any of your data is wrong, write to {email} and we will correct it.",
        "Если какие-то данные неверны, напишите на {email}, и мы их исправим.",
    ),
    (
        "erasure", "17", "POST /v1/subjects/{id}/erasure",
        "Võite paluda oma andmed kustutada: kirjutage {email}. Kui seadus kohustab neid hoidma, ütleme, miks ja kui kaua.",
        "You may ask us to erase your data: write to {email}. If a law makes us keep it, we tell you why and for how long.",
        "Вы можете попросить удалить ваши данные: напишите на {email}. Если закон обязывает их хранить, мы сообщим, почему и как долго.",
    ),
    (
        "restriction", "18", "POST /v1/subjects/{id}/restriction",
        "Võite paluda, et me teie andmeid ajutiselt ei kasutaks, näiteks kuni vaidlus on lahendatud: kirjutage {email}.",
        "You may ask us to stop using your data for a while, for example until a dispute is settled: write to {email}.",
        "Вы можете попросить временно не использовать ваши данные, например до разрешения спора: напишите на {email}.",
    ),
    (
        "objection", "21", "PUT /v1/subjects/{id}/consents/{purpose}",
        "Võite keelata oma andmete kasutamise pakkumisteks igal ajal: kirjutage {email} või kasutage iga kirja lõpus olevat linki.",
        "You may stop us using your data for offers at any time: write to {email} or use the link at the end of each message.",
        "Вы можете в любое время запретить использовать ваши данные для предложений: напишите на {email} или воспользуйтесь ссылкой в конце каждого письма.",
    ),
    (
        "portability", "20", "GET /v1/subjects/{id}/export",
        "Võite saada oma andmed masinloetavas failis (JSON), et need mujale viia: kirjutage {email}.",
        "You may get your data in a file a computer can read (JSON) to take it elsewhere: write to {email}.",
        "Вы можете получить свои данные в машиночитаемом файле (JSON), чтобы передать их в другое место: напишите на {email}.",
    ),
    (
        "withdraw_consent", "7(3)", "PUT /v1/subjects/{id}/consents/{purpose}",
        "Antud nõusoleku võite igal ajal tagasi võtta, sama lihtsalt kui selle andsite. See ei muuda varasemat kasutamist ebaseaduslikuks.",
        "You may withdraw a consent at any time, as easily as you gave it. This does not make earlier use unlawful.",
        "Вы можете в любое время отозвать согласие так же легко, как дали его. Это не делает прежнее использование незаконным.",
    ),
];

/// The retention criterion in words: with a rule, its months counted from the last activity.
pub fn criterion(lang: Language, rule: Option<(i32, &str)>, declared: Option<&str>) -> String {
    match (rule, declared) {
        (Some((months, basis)), _) => match lang {
            Language::Et => format!("{months} kuud pärast viimast tegevust teie andmetega (alus: {basis})."),
            Language::En => format!("{months} months after the last activity on your record (basis: {basis})."),
            Language::Ru => format!("{months} мес. после последнего действия с вашими данными (основание: {basis})."),
        },
        (None, Some(text)) => text.to_owned(),
        (None, None) => pick(
            lang,
            "Kindlat tähtaega pole: andmeid hoitakse, kuni neid on ülal nimetatud eesmärkideks vaja.",
            "No fixed date: your data is kept while it is needed for the purposes above.",
            "Фиксированного срока нет: данные хранятся, пока они нужны для указанных выше целей.",
        )
        .to_owned(),
    }
}

/// The page's own words: `(key, et, en, ru)`.
const PAGE: [(&str, &str, &str, &str); 33] = [
    ("title", "Teie isikuandmed", "Your personal data", "Ваши персональные данные"),
    ("intro", "See on vastus teie soovile teada, milliseid andmeid me teie kohta hoiame ja mida nendega teeme (isikuandmete kaitse üldmääruse artikkel 15).", "This is our answer to your wish to know what data we hold about you and what we do with it (Article 15 of the General Data Protection Regulation).", "Это ответ на ваше желание узнать, какие данные о вас мы храним и что с ними делаем (статья 15 Общего регламента по защите данных)."),
    ("made", "Koostatud", "Made on", "Составлено"),
    ("confirmation", "Kas me töötleme teie andmeid?", "Do we process your data?", "Обрабатываем ли мы ваши данные?"),
    ("yes", "Jah. Teie andmete eest vastutab:", "Yes. The organisation responsible for your data is:", "Да. За ваши данные отвечает:"),
    ("data", "Andmed, mida me teie kohta hoiame", "The data we hold about you", "Данные, которые мы о вас храним"),
    ("consents", "Teie nõusolekud ja keelud", "Your consents and refusals", "Ваши согласия и отказы"),
    ("purposes", "Milleks me andmeid kasutame", "Why we use your data", "Для чего мы используем ваши данные"),
    ("purpose", "Eesmärk", "Purpose", "Цель"),
    ("basis", "Õiguslik alus", "Legal basis", "Правовое основание"),
    ("categories", "Milliseid andmeid", "Which data", "Какие данные"),
    ("recipients", "Kes on teie andmeid saanud", "Who has received your data", "Кто получал ваши данные"),
    ("no_recipients", "Keegi väljaspool meid pole teie andmeid saanud.", "Nobody outside our organisation has received your data.", "Никто вне нашей организации не получал ваших данных."),
    ("first", "Esimest korda", "First time", "Впервые"),
    ("last", "Viimati", "Last time", "Последний раз"),
    ("times", "Kordi", "Times", "Раз"),
    ("retention", "Kui kaua me andmeid hoiame", "How long we keep your data", "Как долго мы храним ваши данные"),
    ("keep_until", "Hoiame kuni", "We keep it until", "Храним до"),
    ("holds", "Seadus kohustab meid hoidma andmeid kauem:", "A law makes us keep your data longer:", "Закон обязывает нас хранить данные дольше:"),
    ("review", "üle vaadatakse", "to be reviewed on", "пересмотр"),
    ("source", "Kust andmed pärinevad", "Where your data came from", "Откуда получены ваши данные"),
    ("transfers", "Andmete saatmine väljapoole Euroopa Liitu", "Sending data outside the European Union", "Передача данных за пределы Европейского союза"),
    ("no_transfers", "Me ei saada teie andmeid väljapoole Euroopa Majanduspiirkonda.", "We do not send your data outside the European Economic Area.", "Мы не передаём ваши данные за пределы Европейской экономической зоны."),
    ("automated", "Automaatsed otsused", "Automated decisions", "Автоматизированные решения"),
    ("no_automated", "Me ei tee teie kohta otsuseid ainult arvuti abil.", "We make no decisions about you by computer alone.", "Мы не принимаем решений о вас только с помощью компьютера."),
    ("log", "Kes ja millal teie andmeid kasutas", "Who used your data, and when", "Кто и когда использовал ваши данные"),
    ("no_log", "Kirjeid pole.", "No entries.", "Записей нет."),
    ("date", "Kuupäev", "Date", "Дата"),
    ("what", "Mis juhtus", "What happened", "Что произошло"),
    ("who", "Kes", "Who", "Кто"),
    ("why", "Põhjus", "Reason given", "Указанная причина"),
    ("rights", "Teie õigused", "Your rights", "Ваши права"),
    ("complaint", "Kuhu kaevata", "Where to complain", "Куда жаловаться"),
];

/// One of the page's own words in `lang`.
pub fn page(key: &str, lang: Language) -> &'static str {
    PAGE.iter()
        .find(|(k, ..)| *k == key)
        .map_or("", |(_, et, en, ru)| pick(lang, et, en, ru))
}

/// Who acted, as the person reads it.
pub fn actor_kind(kind: &str, lang: Language) -> &'static str {
    match kind {
        "you" => pick(lang, "Teie ise", "You", "Вы"),
        "recipient" => pick(lang, "Andmete saaja", "A recipient", "Получатель"),
        "system" => pick(
            lang,
            "Automaatne töö",
            "Automatic work",
            "Автоматическая работа",
        ),
        _ => pick(lang, "Meie töötaja", "Our staff", "Наш сотрудник"),
    }
}

/// A data category as the person reads it.
pub fn category(name: &str, lang: Language) -> String {
    let words = match name {
        "identity" => ("nimi", "name", "имя"),
        "contact" => (
            "e-post ja telefon",
            "e-mail and phone",
            "эл. почта и телефон",
        ),
        "address" => ("aadress", "address", "адрес"),
        "personal_code" => ("isikukood", "personal identification code", "личный код"),
        "consent_records" => ("nõusolekud", "consents", "согласия"),
        "disclosure_records" => ("andmete edastamised", "sharing of data", "передачи данных"),
        "request_records" => ("teie pöördumised", "your requests", "ваши обращения"),
        "access_log" => ("kasutuslogi", "usage log", "журнал использования"),
        other => return other.to_owned(),
    };
    pick(lang, words.0, words.1, words.2).to_owned()
}
