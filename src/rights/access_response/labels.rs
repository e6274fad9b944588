//! The access-log actions as a person reads them, in Estonian, English and Russian.

use super::texts::pick;
use crate::domain::language::Language;

/// An access-log action in words; an action without its own words (added later) is shown by
/// its name, which is still accurate.
pub fn label(action: &str, lang: Language) -> String {
    let (et, en, ru) = match action {
        "subject.create" => (
            "Kirje loodi",
            "Your record was created",
            "Создана ваша запись",
        ),
        "subject.read" => (
            "Kirjet vaadati",
            "Your record was viewed",
            "Вашу запись просмотрели",
        ),
        "subject.list" => (
            "Kirje oli otsingutulemustes",
            "Your record appeared in a search",
            "Ваша запись попала в результаты поиска",
        ),
        "subject.rectify" => (
            "Andmeid parandati",
            "Your data was corrected",
            "Ваши данные исправлены",
        ),
        "subject.export" => (
            "Andmed koondati väljavõtteks",
            "A copy of your data was made",
            "Составлена копия ваших данных",
        ),
        "subject.erase" => (
            "Andmed kustutati",
            "Your data was erased",
            "Ваши данные удалены",
        ),
        "subject.restrict" => (
            "Töötlemist piirati",
            "Processing was restricted",
            "Обработка ограничена",
        ),
        "subject.restriction_lift" => (
            "Piirang lõpetati",
            "The restriction was lifted",
            "Ограничение снято",
        ),
        "consent.read" => (
            "Nõusolekuid vaadati",
            "Your consents were viewed",
            "Ваши согласия просмотрели",
        ),
        "consent.change" => (
            "Nõusolekut muudeti",
            "A consent was changed",
            "Согласие изменено",
        ),
        "consent.eligibility" => (
            "Kontrolliti, kas tohib pakkumisi saata",
            "Checked whether offers may be sent",
            "Проверено, можно ли отправлять предложения",
        ),
        "consent.receipt" => (
            "Nõusoleku kviitungit vaadati",
            "A consent receipt was viewed",
            "Просмотрена квитанция согласия",
        ),
        "consent.confirm" => (
            "Nõusolek kinnitati",
            "A consent was confirmed",
            "Согласие подтверждено",
        ),
        "consent.export" => (
            "Nõusolekud koondati väljavõtteks",
            "Your consents were exported",
            "Ваши согласия выгружены",
        ),
        "disclosure.authorize" => (
            "Anti luba andmete edastamiseks",
            "Permission to share your data was recorded",
            "Записано разрешение на передачу данных",
        ),
        "disclosure.revoke" => (
            "Edastamise luba lõpetati",
            "Permission to share your data was ended",
            "Разрешение на передачу данных отменено",
        ),
        "disclosure.read" => (
            "Edastamise andmeid vaadati",
            "Records of sharing were viewed",
            "Просмотрены записи о передаче",
        ),
        "disclosure.record" => (
            "Andmed edastati",
            "Your data was given to an organisation",
            "Ваши данные переданы организации",
        ),
        "partner.read" => (
            "Andmed väljastati partnerile",
            "Data released to a partner",
            "Данные переданы партнёру",
        ),
        "partner.list" => (
            "Partner nägi, et tohib andmeid saada",
            "A partner saw it may receive your data",
            "Партнёр увидел, что может получить ваши данные",
        ),
        "access_log.read" => (
            "Kasutuslogi vaadati",
            "This usage log was viewed",
            "Просмотрен журнал использования",
        ),
        "request.create" => (
            "Pöördumine registreeriti",
            "A request of yours was registered",
            "Зарегистрировано ваше обращение",
        ),
        "request.update" => (
            "Pöördumist menetleti",
            "A request of yours was handled",
            "Ваше обращение обработано",
        ),
        "request.read" => (
            "Pöördumist vaadati",
            "A request of yours was viewed",
            "Ваше обращение просмотрели",
        ),
        "retention.read" => (
            "Säilitustähtaega kontrolliti",
            "Your keep date was checked",
            "Проверен срок хранения",
        ),
        "retention.run" => (
            "Tähtaja möödumisel kustutamine",
            "Erasure when the keep date passed",
            "Удаление по истечении срока",
        ),
        "notification.read" => (
            "Teavitusi vaadati",
            "Notices about your data were viewed",
            "Просмотрены уведомления о ваших данных",
        ),
        "notification.update" => (
            "Teavitust muudeti",
            "A notice was updated",
            "Уведомление обновлено",
        ),
        "notification.send" => (
            "Saajat teavitati muudatusest",
            "A recipient was told of a change",
            "Получатель уведомлён об изменении",
        ),
        "notification.outcome" => (
            "Saaja teatas, mida tegi",
            "A recipient reported what it did",
            "Получатель сообщил, что сделал",
        ),
        "hold.create" => (
            "Andmete säilitamise kohustus seati",
            "A duty to keep your data was recorded",
            "Записана обязанность хранить данные",
        ),
        "hold.release" => (
            "Säilitamise kohustus lõppes",
            "A duty to keep your data ended",
            "Обязанность хранить данные закончилась",
        ),
        "hold.read" => (
            "Säilitamise kohustusi vaadati",
            "Duties to keep your data were viewed",
            "Просмотрены обязанности хранения",
        ),
        "art14.update" => (
            "Märgiti, et teid teavitati",
            "It was recorded that you were informed",
            "Записано, что вы были проинформированы",
        ),
        "art14.read" => (
            "Teavitamise tähtaega kontrolliti",
            "The date to inform you was checked",
            "Проверен срок вашего информирования",
        ),
        "breach.read" | "breach.scope" => (
            "Kontrolliti, kas rikkumine puudutas teid",
            "Checked whether a breach affected you",
            "Проверено, затронуло ли вас нарушение",
        ),
        "access_response.read" => (
            "Koostati vastus teie päringule",
            "An answer to your access request was made",
            "Составлен ответ на ваш запрос",
        ),
        "access_response.freeze" => (
            "Vastus talletati allkirjaga",
            "The answer was kept, signed",
            "Ответ сохранён с подписью",
        ),
        "download.read" => (
            "Vastust laaditi alla",
            "The answer was downloaded",
            "Ответ скачан",
        ),
        "evidence.read" => (
            "Koostati tõendite kogum",
            "A bundle of evidence was made",
            "Составлен пакет доказательств",
        ),
        _ => return action.to_owned(),
    };
    pick(lang, et, en, ru).to_owned()
}
